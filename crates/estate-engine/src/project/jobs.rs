//! A project's jobs as any process sees them: the list, one job, its log, its tenants, a
//! cancel asked of it whichever process runs it, and the repair of jobs whose process is gone.

use super::Project;
use crate::error::Result;
use crate::registry::{JobFilter, JobRecord, LoggedLine, repair_from_ledgers};

impl Project {
    /// Jobs, newest first, as `filter` says.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        self.registry.jobs(filter).await
    }

    /// One job, by id (refused, naming `estate jobs`, when there is none).
    pub async fn job(&self, id: &str) -> Result<JobRecord> {
        self.registry.job(id).await
    }

    /// Job `id`'s log lines after line `after` (0: from the start), at most `limit`; for
    /// `tenant`, its lines only.
    pub async fn job_log(
        &self,
        id: &str,
        after: i64,
        tenant: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LoggedLine>> {
        self.registry.job_log(id, after, tenant, limit).await
    }

    /// The tenants job `id` was planned over, in slug order: what a retry plans again.
    pub async fn job_tenants(&self, id: &str) -> Result<Vec<String>> {
        self.registry.job(id).await?;
        self.registry.job_tenants(id).await
    }

    /// Asks running job `id`, whichever process runs it, to stop at its next migration
    /// boundary; the request records this operator.
    pub async fn cancel_job(&self, id: &str) -> Result<()> {
        self.ensure_writable("cancelling a job")?;
        self.registry
            .request_cancel(id, &self.operator.to_string())
            .await
    }

    /// Jobs the registry calls running whose process is gone (killed, its machine restarted)
    /// left their tenants' registry rows behind their ledgers: repairs those and records each
    /// job interrupted. Done when the project opens, and by a console that sees another
    /// process's job stop moving. Returns how many jobs it found. Reads only when read-only.
    pub async fn reap_dead_jobs(&self) -> Result<usize> {
        if self.config.read_only || !self.catalog.problems.is_empty() {
            // A broken catalog is not recorded: the refusal it causes must change nothing.
            return Ok(0);
        }
        let dead = self.registry.dead_jobs().await?;
        for (job, tenants) in &dead {
            let repaired = repair_from_ledgers(
                &self.config,
                &self.catalog,
                &self.migrators,
                &self.registry,
                tenants,
            )
            .await?;
            tracing::warn!(%job, tenants = tenants.len(), repaired, "reconciled the registry after a job whose process is gone");
            self.registry.mark_interrupted(job).await?;
        }
        Ok(dead.len())
    }
}
