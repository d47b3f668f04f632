-- The module registry: the catalog as last synced, tenants and where their databases are,
-- which module is installed for which tenant, jobs and the history of every step.
CREATE TABLE estate_modules (
    name        VARCHAR(63) PRIMARY KEY,
    title       TEXT        NOT NULL,
    version     VARCHAR(64) NOT NULL,
    description TEXT        NOT NULL,
    requires    TEXT        NOT NULL,
    synced_at   VARCHAR(40) NOT NULL
);

CREATE TABLE estate_tenants (
    slug       VARCHAR(63) PRIMARY KEY,
    name       TEXT        NOT NULL,
    engine     VARCHAR(16) NOT NULL,
    location   TEXT        NOT NULL,
    created_at VARCHAR(40) NOT NULL
);

CREATE TABLE estate_tenant_modules (
    tenant         VARCHAR(63) NOT NULL REFERENCES estate_tenants (slug),
    module         VARCHAR(63) NOT NULL,
    state          VARCHAR(16) NOT NULL CHECK (state IN ('installed', 'failed')),
    module_version VARCHAR(64) NOT NULL,
    installed_at   VARCHAR(40),
    updated_at     VARCHAR(40) NOT NULL,
    error          TEXT,
    PRIMARY KEY (tenant, module)
);

CREATE TABLE estate_jobs (
    id          VARCHAR(40) PRIMARY KEY,
    action      VARCHAR(16) NOT NULL,
    modules     TEXT        NOT NULL,
    tenants     INTEGER     NOT NULL,
    steps       INTEGER     NOT NULL,
    operator    TEXT        NOT NULL,
    ssh_client  TEXT,
    started_at  VARCHAR(40) NOT NULL,
    finished_at VARCHAR(40),
    state       VARCHAR(16) NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'interrupted')),
    failed      INTEGER     NOT NULL DEFAULT 0,
    skipped     INTEGER     NOT NULL DEFAULT 0
);

CREATE TABLE estate_history (
    id          INTEGER PRIMARY KEY,
    job_id      VARCHAR(40) NOT NULL REFERENCES estate_jobs (id),
    tenant      VARCHAR(63),
    module      VARCHAR(63) NOT NULL,
    scope       VARCHAR(8)  NOT NULL,
    action      VARCHAR(16) NOT NULL CHECK (action IN ('install', 'upgrade', 'rollback')),
    operator    TEXT        NOT NULL,
    ssh_client  TEXT,
    started_at  VARCHAR(40) NOT NULL,
    finished_at VARCHAR(40) NOT NULL,
    duration_ms BIGINT      NOT NULL,
    migrations  TEXT        NOT NULL,
    outcome     VARCHAR(16) NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    error       TEXT
);

CREATE INDEX estate_history_tenant_idx ON estate_history (tenant, started_at);
CREATE INDEX estate_history_module_idx ON estate_history (module, started_at);
