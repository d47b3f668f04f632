-- Tenant tags (`plan=enterprise`), one row a tag, and the removal of a tenant recorded in the
-- history: a 'remove' row names the tenant and no module.
CREATE TABLE estate_tenant_tags (
    tenant VARCHAR(63) NOT NULL REFERENCES estate_tenants (slug),
    key    VARCHAR(63) NOT NULL,
    value  TEXT        NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX estate_tenant_tags_key_idx ON estate_tenant_tags (key, value);

ALTER TABLE estate_history ALTER COLUMN module DROP NOT NULL;
ALTER TABLE estate_history DROP CONSTRAINT estate_history_action_check;
ALTER TABLE estate_history ADD CONSTRAINT estate_history_action_check
    CHECK (action IN ('install', 'upgrade', 'rollback', 'adopt', 'remove'));
