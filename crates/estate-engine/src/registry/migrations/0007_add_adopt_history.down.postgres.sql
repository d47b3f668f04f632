-- An adoption stays in the history as the install it stood for.
UPDATE estate_history SET action = 'install' WHERE action = 'adopt';
ALTER TABLE estate_history DROP CONSTRAINT estate_history_action_check;
ALTER TABLE estate_history ADD CONSTRAINT estate_history_action_check
    CHECK (action IN ('install', 'upgrade', 'rollback'));
