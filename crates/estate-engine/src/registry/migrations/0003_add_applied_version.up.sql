-- What the last job left applied of the module's tenant scope in the tenant's database: the
-- highest migration version, and a digest of those migrations' checksums. The console reads
-- "n pending" for thousands of tenants from this one table instead of opening every tenant's
-- ledger, and a migrate skips a tenant whose version and digest match the files (a changed
-- file changes the digest, so drift is still found). NULL: not known (rows written before
-- these columns); readers fall back to the ledger.
ALTER TABLE estate_tenant_modules ADD COLUMN applied_version BIGINT;
ALTER TABLE estate_tenant_modules ADD COLUMN applied_digest VARCHAR(64);
