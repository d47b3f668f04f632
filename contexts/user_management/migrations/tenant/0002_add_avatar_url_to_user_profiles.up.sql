-- Add an optional avatar image URL to user profiles.
ALTER TABLE user_profiles ADD COLUMN avatar_url VARCHAR(2048);
