-- Drop the global settings table for calendars.
DROP INDEX calendar_global_config_setting_key_idx;

DROP TABLE calendar_global_config;
