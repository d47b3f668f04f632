-- Drop the calendars table.
DROP INDEX calendars_owner_user_id_idx;

DROP TABLE calendars;
