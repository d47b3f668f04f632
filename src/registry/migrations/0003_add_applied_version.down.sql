ALTER TABLE estate_tenant_modules DROP COLUMN applied_version;
