-- The tenants a running job works on, written with its row when it starts and removed when it
-- ends: a job found `running` whose process is gone (killed, its machine restarted) names the
-- tenants whose registry rows may lag their ledgers, and the next start repairs exactly those.
CREATE TABLE estate_job_tenants (
    job_id VARCHAR(64) NOT NULL,
    tenant VARCHAR(63) NOT NULL,
    PRIMARY KEY (job_id, tenant)
);
