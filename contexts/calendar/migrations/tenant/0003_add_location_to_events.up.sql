-- Add an optional free-text location to events.
ALTER TABLE events ADD COLUMN location VARCHAR(255);
