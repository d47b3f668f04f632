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

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters at 13 a row.
const ROWS_PER_STATEMENT: usize = 500;

impl RegistryWrite {
    /// Writes of different classes touch different rows, so a batch may be written class by
    /// class; an installation's upserts and removals stay in their order, one class.
    fn class(&self) -> u8 {
        match self {
            RegistryWrite::Installation { .. } | RegistryWrite::Removal { .. } => 0,
            RegistryWrite::History(_) => 1,
            RegistryWrite::Log { .. } => 2,
            RegistryWrite::Progress { .. } => 3,
        }
    }

    /// One statement may not upsert a row twice: a second write of the same installation
    /// starts a statement of its own.
    fn installation_key(&self) -> Option<(&str, &str)> {
        match self {
            RegistryWrite::Installation { tenant, module, .. } => Some((tenant, module)),
            _ => None,
        }
    }
}

/// How many of the writes at the head of `writes` one statement can take, in their order:
/// the same variant, at most [`ROWS_PER_STATEMENT`], no installation twice.
fn run_len(writes: &[&RegistryWrite]) -> usize {
    let Some(first) = writes.first() else {
        return 0;
    };
    if matches!(
        first,
        RegistryWrite::Log { .. } | RegistryWrite::Progress { .. }
    ) {
        return 1;
    }
    let mut keys = std::collections::HashSet::new();
    writes
        .iter()
        .take(ROWS_PER_STATEMENT)
        .take_while(|w| {
            std::mem::discriminant(**w) == std::mem::discriminant(*first)
                && w.installation_key().is_none_or(|k| keys.insert(k))
        })
        .count()
}

impl Registry {
    /// Writes `writes` in one transaction, with one statement for each run of writes of a
    /// kind: a job's recorder batches what its events say, so a thousand tenants
    /// cost a few landlord commits and a few statements each, not three statements a tenant.
    pub async fn write(&self, writes: &[RegistryWrite]) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        // An event's writes come together (a history row, then its installation): by class,
        // a batch's hundred tenants make a few long runs, not two hundred short ones.
        let mut sorted: Vec<&RegistryWrite> = writes.iter().collect();
        sorted.sort_by_key(|w| w.class());
        let mut tx = self.db.begin().await?;
        let at = now();
        let mut rest = sorted.as_slice();
        while !rest.is_empty() {
            let (run, tail) = rest.split_at(run_len(rest));
            rest = tail;
            match run[0] {
                RegistryWrite::Log {
                    job_id,
                    first_seq,
                    lines,
                } => self.append_log(&mut tx, job_id, *first_seq, lines).await?,
                RegistryWrite::Progress { job_id, counts } => {
                    crate::on_tx!(tx, conn => {
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
                        .map_err(|e| self.err(e))?;
                    });
                }
                RegistryWrite::Installation { .. } => {
                    self.upsert_installations(&mut tx, run, &at).await?
                }
                RegistryWrite::Removal { .. } => self.remove_installations(&mut tx, run).await?,
                RegistryWrite::History(_) => self.insert_history(&mut tx, run).await?,
            }
        }
        tx.commit().await
    }

    async fn upsert_installations(
        &self,
        tx: &mut crate::database::Tx,
        run: &[&RegistryWrite],
        at: &str,
    ) -> Result<()> {
        if let crate::database::TxInner::Postgres(pg) = &mut tx.inner {
            return super::unnest::upsert_installations(pg, run, at)
                .await
                .map_err(|e| self.err(e));
        }
        crate::on_tx!(tx, conn => {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO estate_tenant_modules
                   (tenant, module, state, module_version, installed_at, updated_at, error,
                    applied_version, applied_digest) ",
            );
            insert.push_values(run, |mut row, w| {
                let RegistryWrite::Installation { tenant, module, state, version, applied, error } = w else {
                    unreachable!("a run holds writes of one kind")
                };
                let installed_at = (*state == InstallState::Installed).then_some(at);
                row.push_bind(tenant)
                    .push_bind(module)
                    .push_bind(state.as_str())
                    .push_bind(version)
                    .push_bind(installed_at)
                    .push_bind(at)
                    .push_bind(error)
                    .push_bind(applied.as_ref().map(|a| a.version))
                    .push_bind(applied.as_ref().map(|a| a.digest.as_str()));
            });
            insert.push(
                " ON CONFLICT (tenant, module) DO UPDATE SET state = excluded.state,
                   module_version = excluded.module_version,
                   installed_at = COALESCE(estate_tenant_modules.installed_at, excluded.installed_at),
                   updated_at = excluded.updated_at, error = excluded.error,
                   applied_version = COALESCE(excluded.applied_version, estate_tenant_modules.applied_version),
                   applied_digest = COALESCE(excluded.applied_digest, estate_tenant_modules.applied_digest)",
            );
            insert.build().execute(&mut *conn).await.map_err(|e| self.err(e))?;
        });
        Ok(())
    }

    /// Each removal deletes its row unless the row was written after its `unless_after`.
    async fn remove_installations(
        &self,
        tx: &mut crate::database::Tx,
        run: &[&RegistryWrite],
    ) -> Result<()> {
        crate::on_tx!(tx, conn => {
            let mut delete = sqlx::QueryBuilder::new(
                "DELETE FROM estate_tenant_modules WHERE EXISTS (SELECT 1 FROM (",
            );
            delete.push_values(run, |mut row, w| {
                let RegistryWrite::Removal { tenant, module, unless_after } = w else {
                    unreachable!("a run holds writes of one kind")
                };
                row.push_bind(tenant).push_bind(module).push_bind(unless_after);
            });
            // VALUES names its columns column1.. in SQLite and PostgreSQL alike.
            delete.push(
                ") AS r WHERE r.column1 = estate_tenant_modules.tenant
                   AND r.column2 = estate_tenant_modules.module
                   AND (r.column3 IS NULL OR estate_tenant_modules.updated_at <= r.column3))",
            );
            delete.build().execute(&mut *conn).await.map_err(|e| self.err(e))?;
        });
        Ok(())
    }

    async fn insert_history(
        &self,
        tx: &mut crate::database::Tx,
        run: &[&RegistryWrite],
    ) -> Result<()> {
        if let crate::database::TxInner::Postgres(pg) = &mut tx.inner {
            return super::unnest::insert_history(pg, run)
                .await
                .map_err(|e| self.err(e));
        }
        crate::on_tx!(tx, conn => {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO estate_history (job_id, tenant, module, scope, action, operator, ssh_client,
                   started_at, finished_at, duration_ms, migrations, outcome, error) ",
            );
            insert.push_values(run, |mut row, w| {
                let RegistryWrite::History(entry) = w else {
                    unreachable!("a run holds writes of one kind")
                };
                row.push_bind(&entry.job_id)
                    .push_bind(&entry.tenant)
                    .push_bind(&entry.module)
                    .push_bind(&entry.scope)
                    .push_bind(&entry.action)
                    .push_bind(&entry.operator)
                    .push_bind(&entry.ssh_client)
                    .push_bind(&entry.started_at)
                    .push_bind(&entry.finished_at)
                    .push_bind(entry.duration_ms)
                    .push_bind(&entry.migrations)
                    .push_bind(&entry.outcome)
                    .push_bind(&entry.error);
            });
            insert.build().execute(&mut *conn).await.map_err(|e| self.err(e))?;
        });
        Ok(())
    }
}
