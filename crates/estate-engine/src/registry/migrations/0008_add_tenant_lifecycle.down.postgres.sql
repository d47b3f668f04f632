-- A removal's row has no module for the older table to hold: it goes with the tags.
DROP TABLE estate_tenant_tags;
DELETE FROM estate_history WHERE action = 'remove';
ALTER TABLE estate_history ALTER COLUMN module SET NOT NULL;
ALTER TABLE estate_history DROP CONSTRAINT estate_history_action_check;
ALTER TABLE estate_history ADD CONSTRAINT estate_history_action_check
    CHECK (action IN ('install', 'upgrade', 'rollback', 'adopt'));
