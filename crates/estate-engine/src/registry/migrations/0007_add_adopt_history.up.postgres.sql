-- `estate adopt` records its steps as 'adopt'.
ALTER TABLE estate_history DROP CONSTRAINT estate_history_action_check;
ALTER TABLE estate_history ADD CONSTRAINT estate_history_action_check
    CHECK (action IN ('install', 'upgrade', 'rollback', 'adopt'));
