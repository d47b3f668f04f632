-- A job's log, kept in the registry so that any process (another console, `estate jobs log`)
-- can read, replay and follow the log of any job, whoever ran it and however it ended; and
-- its progress as counts that move while it runs, so a killed job shows what it really did.
-- The lines of jobs that ended longer ago than the config's `job_log_days` are pruned.
CREATE TABLE estate_job_events (
    job_id VARCHAR(40) NOT NULL,
    seq    BIGINT      NOT NULL,
    at     VARCHAR(40) NOT NULL,
    tenant VARCHAR(63),
    kind   VARCHAR(16) NOT NULL,
    text   TEXT        NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Steps succeeded and not started (`skipped` keeps the steps skipped: a requirement failed),
-- tenants whose steps are over and tenants with a failed step.
ALTER TABLE estate_jobs ADD COLUMN succeeded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE estate_jobs ADD COLUMN not_started BIGINT NOT NULL DEFAULT 0;
ALTER TABLE estate_jobs ADD COLUMN tenants_done BIGINT NOT NULL DEFAULT 0;
ALTER TABLE estate_jobs ADD COLUMN tenants_failed BIGINT NOT NULL DEFAULT 0;
-- Set by `estate jobs cancel` or a console of another process; the job's runner reads it and
-- stops at the next migration boundary.
ALTER TABLE estate_jobs ADD COLUMN cancel_requested_by TEXT;
ALTER TABLE estate_jobs ADD COLUMN cancel_requested_at VARCHAR(40);

CREATE INDEX estate_history_job_idx ON estate_history (job_id);
CREATE INDEX estate_jobs_started_idx ON estate_jobs (started_at);

-- From this version on, `estate_job_tenants` keeps a job's tenants after it ends (pruned with
-- its log): a retry plans the job again over them.
