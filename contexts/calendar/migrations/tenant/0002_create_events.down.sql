-- Drop the events table.
DROP INDEX events_calendar_id_starts_at_idx;

DROP TABLE events;
