-- Drop the global settings table for digital cards.
DROP INDEX digital_card_global_config_setting_key_idx;

DROP TABLE digital_card_global_config;
