-- Drop the digital cards table.
DROP INDEX digital_cards_template_id_idx;

DROP INDEX digital_cards_owner_user_id_idx;

DROP INDEX digital_cards_slug_idx;

DROP TABLE digital_cards;
