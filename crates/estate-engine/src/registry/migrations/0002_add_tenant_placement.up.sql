-- Where a tenant lives on PostgreSQL: the server (by its name in the config) and, in schema
-- layout, the schema. `location` holds the SQLite file or the PostgreSQL database.
ALTER TABLE estate_tenants ADD COLUMN server VARCHAR(63);
ALTER TABLE estate_tenants ADD COLUMN schema_name VARCHAR(63);
