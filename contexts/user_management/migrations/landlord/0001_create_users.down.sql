-- Drop the global user accounts table.
DROP INDEX users_is_active_idx;

DROP INDEX users_email_idx;

DROP TABLE users;
