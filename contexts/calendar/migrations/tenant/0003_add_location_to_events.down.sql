-- Remove the location from events.
ALTER TABLE events DROP COLUMN location;
