-- Create the global (all tenants) settings table for digital cards.
CREATE TABLE digital_card_global_config (
    id VARCHAR(36) PRIMARY KEY,
    setting_key VARCHAR(100) NOT NULL,
    setting_value TEXT,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX digital_card_global_config_setting_key_idx ON digital_card_global_config (setting_key);
