-- Add an optional accent colour (hex, e.g. #1A2B3C) to digital cards.
ALTER TABLE digital_cards ADD COLUMN accent_color VARCHAR(7);
