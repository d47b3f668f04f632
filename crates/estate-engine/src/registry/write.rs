//! What a job's events change in the registry, written together.
//!
//! A job's recorder turns events into installation upserts, removals and history rows, and
//! writes each batch in one landlord transaction: a thousand tenants cost a few commits, and a
//! batch is recorded whole or not at all (the ledgers, written with the migrations, can
//! rebuild what a lost batch said: `repair`).

use super::{HistoryEntry, InstallState, JobCounts, LogLine, Registry};
use crate::clock::now;
use crate::error::Result;
use crate::migrator::Applied;

/// One change the registry records, for [`Registry::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryWrite {
    /// Upserts a tenant's installation of a module; `applied: None` keeps what was recorded.
    Installation {
        tenant: String,
        module: String,
        state: InstallState,
        version: String,
        applied: Option<Applied>,
        error: Option<String>,
    },
    /// The module was rolled back for the tenant. With `unless_after`, a row written after
    /// that time (another job installed the module there since) stays.
    Removal {
        tenant: String,
        module: String,
        unless_after: Option<String>,
    },
    History(HistoryEntry),
    /// Lines of a job's log, numbered from `first_seq`.
    Log {
        job_id: String,
        first_seq: i64,
        lines: Vec<LogLine>,
    },
    /// How far a running job is.
    Progress {
        job_id: String,
        counts: JobCounts,
    },
}

impl Registry {
    /// Writes `writes` in one transaction: a job's recorder batches what its events say, so
    /// a thousand tenants cost a few landlord commits, not two each.
    pub async fn write(&self, writes: &[RegistryWrite]) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let at = now();
        for w in writes {
            if let RegistryWrite::Log {
                job_id,
                first_seq,
                lines,
            } = w
            {
                self.append_log(&mut tx, job_id, *first_seq, lines).await?;
                continue;
            }
            crate::on_tx!(tx, conn => {
                let done = match w {
                    RegistryWrite::Installation { tenant, module, state, version, applied, error } => {
                        let installed_at = (*state == InstallState::Installed).then(|| at.clone());
                        sqlx::query(
                            "INSERT INTO estate_tenant_modules
                               (tenant, module, state, module_version, installed_at, updated_at, error,
                                applied_version, applied_digest)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                             ON CONFLICT (tenant, module) DO UPDATE SET state = excluded.state,
                               module_version = excluded.module_version,
                               installed_at = COALESCE(estate_tenant_modules.installed_at, excluded.installed_at),
                               updated_at = excluded.updated_at, error = excluded.error,
                               applied_version = COALESCE(excluded.applied_version, estate_tenant_modules.applied_version),
                               applied_digest = COALESCE(excluded.applied_digest, estate_tenant_modules.applied_digest)",
                        )
                        .bind(tenant)
                        .bind(module)
                        .bind(state.as_str())
                        .bind(version)
                        .bind(installed_at)
                        .bind(&at)
                        .bind(error)
                        .bind(applied.as_ref().map(|a| a.version))
                        .bind(applied.as_ref().map(|a| a.digest.clone()))
                        .execute(&mut *conn)
                        .await
                    }
                    RegistryWrite::Removal { tenant, module, unless_after } => {
                        sqlx::query(
                            "DELETE FROM estate_tenant_modules WHERE tenant = $1 AND module = $2
                               AND (CAST($3 AS TEXT) IS NULL OR updated_at <= $3)",
                        )
                        .bind(tenant)
                        .bind(module)
                        .bind(unless_after)
                        .execute(&mut *conn)
                        .await
                    }
                    RegistryWrite::History(entry) => {
                        sqlx::query(
                            "INSERT INTO estate_history (job_id, tenant, module, scope, action, operator, ssh_client,
                               started_at, finished_at, duration_ms, migrations, outcome, error)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                        )
                        .bind(&entry.job_id)
                        .bind(&entry.tenant)
                        .bind(&entry.module)
                        .bind(&entry.scope)
                        .bind(&entry.action)
                        .bind(&entry.operator)
                        .bind(&entry.ssh_client)
                        .bind(&entry.started_at)
                        .bind(&entry.finished_at)
                        .bind(entry.duration_ms)
                        .bind(&entry.migrations)
                        .bind(&entry.outcome)
                        .bind(&entry.error)
                        .execute(&mut *conn)
                        .await
                    }
                    RegistryWrite::Progress { job_id, counts } => {
                        sqlx::query(
                            "UPDATE estate_jobs SET succeeded = $2, failed = $3, skipped = $4,
                               not_started = $5, tenants_done = $6, tenants_failed = $7
                             WHERE id = $1 AND state = 'running'",
                        )
                        .bind(job_id)
                        .bind(counts.succeeded)
                        .bind(counts.failed)
                        .bind(counts.skipped)
                        .bind(counts.not_started)
                        .bind(counts.tenants_done)
                        .bind(counts.tenants_failed)
                        .execute(&mut *conn)
                        .await
                    }
                    RegistryWrite::Log { .. } => continue,
                };
                done.map_err(|e| self.err(e))?;
            });
        }
        tx.commit().await
    }
}
