ALTER TABLE estate_tenants DROP COLUMN schema_name;
ALTER TABLE estate_tenants DROP COLUMN server;
