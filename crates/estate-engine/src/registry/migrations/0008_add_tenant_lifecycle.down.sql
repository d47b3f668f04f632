-- A removal's row has no module for the older table to hold: it goes with the tags.
DROP TABLE estate_tenant_tags;
DELETE FROM estate_history WHERE action = 'remove';

CREATE TABLE estate_history_rebuilt (
    id          INTEGER PRIMARY KEY,
    job_id      VARCHAR(40) NOT NULL REFERENCES estate_jobs (id),
    tenant      VARCHAR(63),
    module      VARCHAR(63) NOT NULL,
    scope       VARCHAR(8)  NOT NULL,
    action      VARCHAR(16) NOT NULL CHECK (action IN ('install', 'upgrade', 'rollback', 'adopt')),
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
