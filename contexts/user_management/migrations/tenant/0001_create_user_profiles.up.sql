-- Create the per-tenant user profiles table (user_id refers to landlord users.id, no FK: other database).
CREATE TABLE user_profiles (
    id VARCHAR(36) PRIMARY KEY,
    user_id VARCHAR(36) NOT NULL,
    job_title VARCHAR(255),
    phone VARCHAR(50),
    locale VARCHAR(20) NOT NULL DEFAULT 'en',
    timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX user_profiles_user_id_idx ON user_profiles (user_id);
