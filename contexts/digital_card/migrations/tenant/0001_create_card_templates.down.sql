-- Drop the card templates table.
DROP INDEX card_templates_name_idx;

DROP TABLE card_templates;
