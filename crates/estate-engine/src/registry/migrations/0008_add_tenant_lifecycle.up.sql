-- Tenant tags (`plan=enterprise`), one row a tag, and the removal of a tenant recorded in the
-- history: a 'remove' row names the tenant and no module. SQLite cannot change a column's
-- NOT NULL or a CHECK constraint in place: the history is rebuilt with its rows and indexes.
CREATE TABLE estate_tenant_tags (
    tenant VARCHAR(63) NOT NULL REFERENCES estate_tenants (slug),
    key    VARCHAR(63) NOT NULL,
    value  TEXT        NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX estate_tenant_tags_key_idx ON estate_tenant_tags (key, value);

CREATE TABLE estate_history_rebuilt (
    id          INTEGER PRIMARY KEY,
    job_id      VARCHAR(40) NOT NULL REFERENCES estate_jobs (id),
    tenant      VARCHAR(63),
    module      VARCHAR(63),
    scope       VARCHAR(8)  NOT NULL,
    action      VARCHAR(16) NOT NULL CHECK (action IN ('install', 'upgrade', 'rollback', 'adopt', 'remove')),
    operator    TEXT        NOT NULL,
    ssh_client  TEXT,
    started_at  VARCHAR(40) NOT NULL,
    finished_at VARCHAR(40) NOT NULL,
    duration_ms BIGINT      NOT NULL,
    migrations  TEXT        NOT NULL,
    outcome     VARCHAR(16) NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    error       TEXT
);

INSERT INTO estate_history_rebuilt
SELECT id, job_id, tenant, module, scope, action, operator, ssh_client, started_at,
       finished_at, duration_ms, migrations, outcome, error
FROM estate_history;

DROP TABLE estate_history;
ALTER TABLE estate_history_rebuilt RENAME TO estate_history;
CREATE INDEX estate_history_tenant_idx ON estate_history (tenant, started_at);
CREATE INDEX estate_history_module_idx ON estate_history (module, started_at);
CREATE INDEX estate_history_job_idx ON estate_history (job_id);
