-- Create the digital cards table, each card rendered with a template.
CREATE TABLE digital_cards (
    id VARCHAR(36) PRIMARY KEY,
    owner_user_id VARCHAR(36) NOT NULL,
    template_id VARCHAR(36) NOT NULL,
    slug VARCHAR(100) NOT NULL,
    full_name VARCHAR(255) NOT NULL,
    job_title VARCHAR(255),
    company VARCHAR(255),
    email VARCHAR(255),
    phone VARCHAR(50),
    website VARCHAR(2048),
    is_published BOOLEAN NOT NULL DEFAULT FALSE,
    view_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (template_id) REFERENCES card_templates (id)
);

CREATE UNIQUE INDEX digital_cards_slug_idx ON digital_cards (slug);

CREATE INDEX digital_cards_owner_user_id_idx ON digital_cards (owner_user_id);

CREATE INDEX digital_cards_template_id_idx ON digital_cards (template_id);
