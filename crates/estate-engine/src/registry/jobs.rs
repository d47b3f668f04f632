//! `estate_jobs` and `estate_job_tenants`: every job, and the tenants it was planned over.
//!
//! A job's row says `running` while its process holds the job's lock; a later estate that
//! can take that lock knows the process is gone, repairs the tenants the job was working on
//! from their ledgers, and records the job interrupted. Its counts move while it runs (the
//! recorder writes them with each batch of events), so any process sees how far it is, and a
//! killed job's row says what it did before it died. Any process may ask a running job to
//! stop (`request_cancel`): its runner reads the request and stops at a migration boundary.

use super::Registry;
use super::job_log::no_such_job;
use crate::clock::now;
use crate::error::{Error, Result};

/// How far a job is: its steps by outcome, its tenants done and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct JobCounts {
    pub succeeded: i64,
    pub failed: i64,
    /// Steps skipped because a step they depend on failed.
    pub skipped: i64,
    /// Steps of tenants the job halted before (`--max-failures`) or was cancelled before.
    pub not_started: i64,
    /// Tenants whose steps are over, failed ones and ones not started included.
    pub tenants_done: i64,
    /// Tenants with a failed step.
    pub tenants_failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct JobRecord {
    pub id: String,
    pub action: String,
    pub modules: String,
    pub tenants: i64,
    pub steps: i64,
    pub operator: String,
    pub ssh_client: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub state: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub counts: JobCounts,
    /// Who asked the job to stop, when someone did.
    pub cancel_requested_by: Option<String>,
    pub cancel_requested_at: Option<String>,
}

impl JobRecord {
    /// Steps not yet over: neither succeeded, failed, skipped nor not started.
    pub fn steps_left(&self) -> i64 {
        let c = &self.counts;
        (self.steps - c.succeeded - c.failed - c.skipped - c.not_started).max(0)
    }

    pub fn is_running(&self) -> bool {
        self.state == "running"
    }
}

/// A job row's columns, for `concat!` (a query's text stays a literal).
macro_rules! columns {
    () => {
        "id, action, modules, tenants, steps, operator, ssh_client, started_at, finished_at,
         state, succeeded, failed, skipped, not_started, tenants_done, tenants_failed,
         cancel_requested_by, cancel_requested_at"
    };
}

/// Which jobs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs whose row says running.
    pub running: bool,
    /// Only jobs started at or after this time (RFC 3339).
    pub since: Option<String>,
    pub limit: i64,
}

impl Registry {
    /// Records a job as running, with the tenants it will work on, in one transaction.
    ///
    /// `installing` lists the modules the job may install or upgrade: until the job ends, no
    /// rollback reverts their landlord scope (see [`Registry::kept_by`]).
    pub async fn start_job(
        &self,
        job: &JobRecord,
        tenants: &[String],
        installing: &[String],
    ) -> Result<()> {
        let installing = (!installing.is_empty()).then(|| installing.join(","));
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO estate_jobs (id, action, modules, tenants, steps, operator, ssh_client, started_at, state, installing)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9)",
            )
            .bind(&job.id)
            .bind(&job.action)
            .bind(&job.modules)
            .bind(job.tenants)
            .bind(job.steps)
            .bind(&job.operator)
            .bind(&job.ssh_client)
            .bind(&job.started_at)
            .bind(&installing)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            // Many rows a statement: a fleet's job starts with a few round trips, not one a
            // tenant (two parameters a row, well under SQLite's bound).
            for chunk in tenants.chunks(5_000) {
                let mut insert =
                    sqlx::QueryBuilder::new("INSERT INTO estate_job_tenants (job_id, tenant) ");
                insert.push_values(chunk, |mut row, tenant| {
                    row.push_bind(&job.id).push_bind(tenant);
                });
                insert.build().execute(&mut *conn).await.map_err(|e| self.err(e))?;
            }
        });
        tx.commit().await
    }

    /// Records how a job ended, with its final counts.
    pub async fn finish_job(&self, id: &str, state: &str, counts: &JobCounts) -> Result<()> {
        self.end_job(id, state, Some(counts)).await
    }

    /// Ends a running job's row and forgets its tenants in one transaction, so a kill between
    /// the two never leaves tenants of an ended job behind. `counts: None` keeps the counts
    /// the recorder wrote last (a job whose process is gone).
    async fn end_job(&self, id: &str, state: &str, counts: Option<&JobCounts>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE estate_jobs SET state = $2, finished_at = $3,
                   succeeded = COALESCE($4, succeeded), failed = COALESCE($5, failed),
                   skipped = COALESCE($6, skipped), not_started = COALESCE($7, not_started),
                   tenants_done = COALESCE($8, tenants_done),
                   tenants_failed = COALESCE($9, tenants_failed)
                 WHERE id = $1 AND state = 'running'",
            )
            .bind(id)
            .bind(state)
            .bind(now())
            .bind(counts.map(|c| c.succeeded))
            .bind(counts.map(|c| c.failed))
            .bind(counts.map(|c| c.skipped))
            .bind(counts.map(|c| c.not_started))
            .bind(counts.map(|c| c.tenants_done))
            .bind(counts.map(|c| c.tenants_failed))
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        });
        tx.commit().await
    }

    /// The tenants job `id` was planned over, in slug order. Kept after the job ends (pruned
    /// with its log): a retry plans the job again over them.
    pub async fn job_tenants(&self, id: &str) -> Result<Vec<String>> {
        let db = &self.db;
        let tenants: Vec<(String,)> = crate::on_pool!(db, pool => {
            sqlx::query_as("SELECT tenant FROM estate_job_tenants WHERE job_id = $1 ORDER BY tenant")
                .bind(id)
                .fetch_all(pool)
                .await
                .map_err(|e| self.err(e))?
        });
        Ok(tenants.into_iter().map(|t| t.0).collect())
    }

    /// Jobs the registry still calls running whose process is gone (killed, its machine
    /// restarted: nobody holds the job's lock), each with the tenants it was working on.
    pub async fn dead_jobs(&self) -> Result<Vec<(String, Vec<String>)>> {
        let db = &self.db;
        let running: Vec<(String,)> = crate::on_pool!(db, pool => {
            sqlx::query_as("SELECT id FROM estate_jobs WHERE state = 'running'")
                .fetch_all(pool)
                .await
                .map_err(|e| self.err(e))?
        });
        let mut dead = Vec::new();
        for (id,) in running {
            if crate::database::DatabaseLock::job_alive(db.address(), &id).await? {
                continue;
            }
            let tenants = self.job_tenants(&id).await?;
            dead.push((id, tenants));
        }
        Ok(dead)
    }

    /// The running jobs other than `except` that may install or upgrade `module`, each with
    /// its operator, whose processes are alive: while one runs, the module's landlord scope
    /// stays. A job whose process is gone puts nothing anywhere any more. Read before the
    /// tenants that keep it ([`Registry::kept_by`]).
    pub(super) async fn installing_jobs(
        &self,
        module: &str,
        except: &str,
    ) -> Result<Vec<(String, String)>> {
        let db = &self.db;
        let running: Vec<(String, String, Option<String>)> = crate::on_pool!(db, pool => {
            sqlx::query_as(
                "SELECT id, operator, installing FROM estate_jobs WHERE state = 'running' AND id <> $1",
            )
            .bind(except)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?
        });
        let mut jobs = Vec::new();
        for (id, operator, installing) in running {
            let listed = installing
                .as_deref()
                .is_some_and(|list| list.split(',').any(|m| m == module));
            if listed && crate::database::DatabaseLock::job_alive(db.address(), &id).await? {
                jobs.push((id, operator));
            }
        }
        Ok(jobs)
    }

    /// Records a job whose process is gone as interrupted, once its tenants' rows are repaired.
    pub async fn mark_interrupted(&self, id: &str) -> Result<()> {
        self.end_job(id, "interrupted", None).await?;
        tracing::warn!(job = %id, "a job whose process is gone is recorded interrupted");
        Ok(())
    }

    /// Jobs, newest first, as `filter` says.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, JobRecord>(concat!(
                "SELECT ", columns!(), " FROM estate_jobs
                 WHERE ($1 = 0 OR state = 'running') AND (CAST($2 AS TEXT) IS NULL OR started_at >= $2)
                 ORDER BY started_at DESC, id DESC LIMIT $3"
            ))
                .bind(i64::from(filter.running))
                .bind(&filter.since)
                .bind(filter.limit)
                .fetch_all(pool)
                .await
                .map_err(|e| self.err(e))
        })
    }

    /// One job, by id; a refusal naming `estate jobs` when no row has it.
    pub async fn job(&self, id: &str) -> Result<JobRecord> {
        let db = &self.db;
        let found = crate::on_pool!(db, pool => {
            sqlx::query_as::<_, JobRecord>(concat!("SELECT ", columns!(), " FROM estate_jobs WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(|e| self.err(e))?
        });
        found.ok_or_else(|| no_such_job(id))
    }

    /// Asks running job `id` to stop at its next migration boundary, recording who asked.
    /// A job that is not running is refused: there is nothing to stop.
    pub async fn request_cancel(&self, id: &str, by: &str) -> Result<()> {
        let job = self.job(id).await?;
        if !job.is_running() {
            return Err(Error::refused(
                format!("job {id} is not running (it is {})", job.state),
                "`estate jobs --running` lists the jobs that can be cancelled",
            ));
        }
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query(
                "UPDATE estate_jobs SET cancel_requested_by = $2, cancel_requested_at = $3
                 WHERE id = $1 AND state = 'running' AND cancel_requested_at IS NULL",
            )
            .bind(id)
            .bind(by)
            .bind(now())
            .execute(pool)
            .await
            .map_err(|e| self.err(e))?
            .rows_affected()
        });
        tracing::warn!(job = %id, by, "cancel requested");
        Ok(())
    }

    /// Who asked job `id` to stop, when someone did.
    pub async fn cancel_requested(&self, id: &str) -> Result<Option<String>> {
        let db = &self.db;
        let by: Option<(Option<String>,)> = crate::on_pool!(db, pool => {
            sqlx::query_as("SELECT cancel_requested_by FROM estate_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(|e| self.err(e))?
        });
        Ok(by.and_then(|b| b.0))
    }
}
