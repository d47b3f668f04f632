DROP INDEX estate_jobs_started_idx;
DROP INDEX estate_history_job_idx;
ALTER TABLE estate_jobs DROP COLUMN cancel_requested_at;
ALTER TABLE estate_jobs DROP COLUMN cancel_requested_by;
ALTER TABLE estate_jobs DROP COLUMN tenants_failed;
ALTER TABLE estate_jobs DROP COLUMN tenants_done;
ALTER TABLE estate_jobs DROP COLUMN not_started;
ALTER TABLE estate_jobs DROP COLUMN succeeded;
DROP TABLE estate_job_events;
