ALTER TABLE estate_tenant_modules DROP COLUMN applied_digest;
ALTER TABLE estate_tenant_modules DROP COLUMN applied_version;
