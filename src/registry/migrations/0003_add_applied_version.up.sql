-- The highest migration version of the module's tenant scope applied in the tenant's
-- database, as the last job left it: the console reads "n pending" for thousands of tenants
-- from this one table instead of opening every tenant's ledger. NULL: not known (rows written
-- before this column); readers fall back to the ledger.
ALTER TABLE estate_tenant_modules ADD COLUMN applied_version BIGINT;
