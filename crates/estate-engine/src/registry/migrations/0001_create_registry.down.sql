DROP INDEX estate_history_module_idx;
DROP INDEX estate_history_tenant_idx;
DROP TABLE estate_history;
DROP TABLE estate_jobs;
DROP TABLE estate_tenant_modules;
DROP TABLE estate_tenants;
DROP TABLE estate_modules;
