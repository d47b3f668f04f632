-- Remove the accent colour from digital cards.
ALTER TABLE digital_cards DROP COLUMN accent_color;
