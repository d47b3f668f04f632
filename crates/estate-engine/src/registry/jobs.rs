//! `estate_jobs` and `estate_job_tenants`: every job, and the tenants a running one works on.
//!
//! A job's row says `running` while its process holds the job's lock; a later estate that
//! can take that lock knows the process is gone, repairs the tenants the job was working on
//! from their ledgers, and records the job interrupted.

use super::Registry;
use crate::clock::now;
use crate::error::Result;

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
    pub failed: i64,
    pub skipped: i64,
}

impl Registry {
    /// Records a job as running, with the tenants it will work on, in one transaction.
    pub async fn start_job(&self, job: &JobRecord, tenants: &[String]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO estate_jobs (id, action, modules, tenants, steps, operator, ssh_client, started_at, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running')",
            )
            .bind(&job.id)
            .bind(&job.action)
            .bind(&job.modules)
            .bind(job.tenants)
            .bind(job.steps)
            .bind(&job.operator)
            .bind(&job.ssh_client)
            .bind(&job.started_at)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            for tenant in tenants {
                sqlx::query("INSERT INTO estate_job_tenants (job_id, tenant) VALUES ($1, $2)")
                    .bind(&job.id)
                    .bind(tenant)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| self.err(e))?;
            }
        });
        tx.commit().await
    }

    pub async fn finish_job(&self, id: &str, state: &str, failed: i64, skipped: i64) -> Result<()> {
        self.end_job(id, state, Some((failed, skipped))).await
    }

    /// Ends a running job's row and forgets its tenants in one transaction, so a kill between
    /// the two never leaves tenants of an ended job behind. `counts`: failed and skipped steps.
    async fn end_job(&self, id: &str, state: &str, counts: Option<(i64, i64)>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE estate_jobs SET state = $2, finished_at = $3,
                   failed = COALESCE($4, failed), skipped = COALESCE($5, skipped)
                 WHERE id = $1 AND state = 'running'",
            )
            .bind(id)
            .bind(state)
            .bind(now())
            .bind(counts.map(|c| c.0))
            .bind(counts.map(|c| c.1))
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            sqlx::query("DELETE FROM estate_job_tenants WHERE job_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.err(e))?;
        });
        tx.commit().await
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
            let tenants: Vec<(String,)> = crate::on_pool!(db, pool => {
                sqlx::query_as("SELECT tenant FROM estate_job_tenants WHERE job_id = $1 ORDER BY tenant")
                    .bind(&id)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| self.err(e))?
            });
            dead.push((id, tenants.into_iter().map(|t| t.0).collect()));
        }
        Ok(dead)
    }

    /// Records a job whose process is gone as interrupted, once its tenants' rows are repaired.
    pub async fn mark_interrupted(&self, id: &str) -> Result<()> {
        self.end_job(id, "interrupted", None).await?;
        tracing::warn!(job = %id, "a job whose process is gone is recorded interrupted");
        Ok(())
    }

    pub async fn jobs(&self, limit: i64) -> Result<Vec<JobRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, JobRecord>(
                "SELECT id, action, modules, tenants, steps, operator, ssh_client, started_at, finished_at, state, failed, skipped
                 FROM estate_jobs ORDER BY started_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))
        })
    }
}
