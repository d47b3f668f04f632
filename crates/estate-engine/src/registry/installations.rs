//! `estate_tenant_modules`: which module is installed for which tenant, and how far.
//!
//! Each row also keeps the tenant-scope version its last job applied and a digest of the files
//! up to it (`migrator::Applied`), so the planner and the matrix can tell "up to date" from
//! the registry alone, without opening a thousand tenant databases.

use std::collections::BTreeMap;

use super::Registry;
use crate::database::Pool;
use crate::error::Result;

/// Whether a module is installed for a tenant, or its last install/upgrade/rollback failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallState {
    Installed,
    Failed,
}

impl InstallState {
    pub(super) fn parse(s: &str) -> InstallState {
        if s == "installed" {
            InstallState::Installed
        } else {
            InstallState::Failed
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            InstallState::Installed => "installed",
            InstallState::Failed => "failed",
        }
    }
}

/// Read from the registry as a packed row ([`Registry::packed_rows`]): the fields' order is
/// the columns' order there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Installation {
    pub tenant: String,
    pub module: String,
    #[serde(deserialize_with = "state_from_text")]
    pub state: InstallState,
    pub module_version: String,
    pub installed_at: Option<String>,
    pub updated_at: String,
    pub error: Option<String>,
    /// The highest tenant-scope migration applied, as the last job left it; `None` when not
    /// recorded (the ledger knows).
    pub applied_version: Option<i64>,
    /// The digest of what is applied up to `applied_version` (see `migrator::Applied`).
    pub applied_digest: Option<String>,
}

/// A state as the registry stores it; anything but `installed` reads as failed, as
/// [`InstallState::parse`] does.
fn state_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<InstallState, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    Ok(InstallState::parse(&text))
}

/// What a plan reads of an installation: no timestamps, version or error, which at 100,000
/// tenants are a fifth of a plan's memory. Read as a packed row, fields in column order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct InstallationSummary {
    pub tenant: String,
    pub module: String,
    #[serde(deserialize_with = "state_from_text")]
    pub state: InstallState,
    pub applied_version: Option<i64>,
    pub applied_digest: Option<String>,
}

/// What the matrix reads of the installations, a column at a time: the tenants, the
/// modules and the applied versions comma-separated (a version empty where the registry does
/// not know it), and the states one letter each (`i` installed, `f` failed), item `n` of each
/// belonging to one row. Slugs and module names (letters, digits, `-`, `_`) and numbers hold
/// no comma.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallationStates {
    tenants: String,
    modules: String,
    states: String,
    versions: String,
}

impl InstallationStates {
    /// Each installation: its tenant, module, state and applied version.
    pub fn each(&self) -> impl Iterator<Item = (&str, &str, InstallState, Option<i64>)> {
        // An empty column is no rows, not one empty item.
        fn items(s: &str) -> impl Iterator<Item = &str> {
            s.split(',').filter(|item| !item.is_empty())
        }
        let versions = self.versions.split(',');
        items(&self.tenants)
            .zip(items(&self.modules))
            .zip(self.states.bytes())
            .zip(versions)
            .map(|(((tenant, module), state), version)| {
                let state = if state == b'i' {
                    InstallState::Installed
                } else {
                    InstallState::Failed
                };
                (tenant, module, state, version.parse().ok())
            })
    }
}

/// Who keeps a module's landlord scope, as the registry says ([`Registry::kept_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptBy {
    /// Tenants the registry has the module for (up to two, in slug order; never none).
    Tenants(Vec<String>),
    /// A running job, its process alive, that may still install the module.
    Job { id: String, operator: String },
}

impl Registry {
    /// Every installation of every tenant, in (tenant, module) order, in one fetched value.
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        // Straight into installations, the packed row's items in field order: no copy of
        // 100,000 rows in between.
        let mut all: Vec<Installation> = self
            .packed_rows(
                "tenant, module, state, module_version, installed_at, updated_at, error,
                 applied_version, applied_digest",
                "estate_tenant_modules",
            )
            .await?;
        all.sort_unstable_by(|a, b| (&a.tenant, &a.module).cmp(&(&b.tenant, &b.module)));
        Ok(all)
    }

    /// Every installation's summary, in (tenant, module) order, in one fetched value.
    pub async fn installation_summaries(&self) -> Result<Vec<InstallationSummary>> {
        let mut all: Vec<InstallationSummary> = self
            .packed_rows(
                "tenant, module, state, applied_version, applied_digest",
                "estate_tenant_modules",
            )
            .await?;
        all.sort_unstable_by(|a, b| (&a.tenant, &a.module).cmp(&(&b.tenant, &b.module)));
        all.shrink_to_fit();
        Ok(all)
    }

    /// Every installation, by (tenant, module).
    pub async fn installations_by_key(&self) -> Result<BTreeMap<(String, String), Installation>> {
        Ok(self
            .installations()
            .await?
            .into_iter()
            .map(|i| ((i.tenant.clone(), i.module.clone()), i))
            .collect())
    }

    /// Every installation's state and applied version: what the matrix needs for thousands
    /// of tenants, without the columns it does not show. Rows, not bytes, are what a fetch
    /// costs (at 100,000 installations, one row each was half the console's first frame), so
    /// they come packed, a column to a text, in one pass of the table: one concatenation a
    /// row per column rather than one of all four (at 1,000,000 installations, most of the
    /// console's snapshot).
    pub async fn installation_states(&self) -> Result<InstallationStates> {
        type Columns = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        // One aggregate query feeds every aggregate the same rows in the same order, so the
        // columns line up (on PostgreSQL, the order of the sorted subquery).
        let columns: Columns = match &self.bulk().await.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT group_concat(tenant, ','), group_concat(module, ','),
                        group_concat(CASE state WHEN 'installed' THEN 'i' ELSE 'f' END, ''),
                        group_concat(COALESCE(applied_version, ''), ',')
                   FROM estate_tenant_modules",
                )
                .fetch_one(pool)
                .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT string_agg(tenant, ','), string_agg(module, ','),
                        string_agg(CASE state WHEN 'installed' THEN 'i' ELSE 'f' END, ''),
                        string_agg(COALESCE(applied_version::text, ''), ',')
                   FROM (SELECT tenant, module, state, applied_version
                           FROM estate_tenant_modules ORDER BY tenant, module) AS rows",
                )
                .fetch_one(pool)
                .await
            }
        }
        .map_err(|e| self.err(e))?;
        let (tenants, modules, states, versions) = columns;
        Ok(InstallationStates {
            tenants: tenants.unwrap_or_default(),
            modules: modules.unwrap_or_default(),
            states: states.unwrap_or_default(),
            versions: versions.unwrap_or_default(),
        })
    }

    /// How many tenants have each module (installed or failed).
    pub async fn installation_counts(&self) -> Result<BTreeMap<String, usize>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT module, COUNT(*) FROM estate_tenant_modules GROUP BY module",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(|(m, n)| (m, n as usize)).collect())
        })
    }

    /// Who keeps `module`'s landlord scope now, if anyone: a tenant the registry has it for,
    /// else a running job other than `except` that may still install it. Read under the
    /// landlord's lock by a rollback about to revert that scope (`jobs/landlord.rs`).
    ///
    /// The jobs are read first, then the tenants. A job records its installations before its
    /// row stops saying running and before it lets go of its lock: one found ended has its
    /// rows in the tenants read after, one found running is waited for. Read the other way
    /// round, a job that records an install and ends between the two reads is seen by
    /// neither, and the scope goes from under a tenant that has just got the module.
    pub async fn kept_by(&self, module: &str, except: &str) -> Result<Option<KeptBy>> {
        self.kept_by_meanwhile(module, except, async {}).await
    }

    /// [`Registry::kept_by`], with `meanwhile` run between its two reads: where another
    /// process may record an install and end (the test of that interleaving).
    async fn kept_by_meanwhile(
        &self,
        module: &str,
        except: &str,
        meanwhile: impl std::future::Future<Output = ()>,
    ) -> Result<Option<KeptBy>> {
        let jobs = self.installing_jobs(module, except).await?;
        meanwhile.await;
        let tenants = self.keepers(module, 2).await?;
        if !tenants.is_empty() {
            return Ok(Some(KeptBy::Tenants(tenants)));
        }
        Ok(jobs
            .into_iter()
            .next()
            .map(|(id, operator)| KeptBy::Job { id, operator }))
    }

    /// Up to `limit` tenants the registry has `module` for, installed or failed (a failed
    /// install is an intent `estate migrate` finishes): while one is left, the module's
    /// landlord scope stays. Read after the jobs ([`Registry::kept_by`]).
    pub(super) async fn keepers(&self, module: &str, limit: i64) -> Result<Vec<String>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT tenant FROM estate_tenant_modules WHERE module = $1 ORDER BY tenant LIMIT $2",
            )
            .bind(module)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::database::DatabaseLock;
    use crate::registry::{Creation, JobCounts, JobRecord, RegistryWrite};

    async fn registry(dir: &std::path::Path) -> Registry {
        // The project's root is the config folder's parent: `dir`.
        std::fs::create_dir(dir.join("config")).unwrap();
        let file = dir.join("config/estate.toml");
        std::fs::write(
            &file,
            "contexts = \"contexts\"\n[landlord]\npath = \"landlord.db\"\n[tenants]\npath = \"tenants/{slug}.db\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&file)).unwrap();
        let (registry, _) = Registry::open(&config, Creation::IfNew, "test")
            .await
            .unwrap();
        let db = &registry.db;
        crate::on_pool!(db, pool => {
            sqlx::query(
                "INSERT INTO estate_tenants (slug, name, engine, location, created_at)
                 VALUES ('t1', 't1', 'sqlite', 'tenants/t1.db', '2026-01-01T00:00:00.000Z')",
            )
            .execute(pool)
            .await
            .unwrap();
        });
        registry
    }

    fn job(id: &str) -> JobRecord {
        JobRecord {
            id: id.to_string(),
            action: "install".to_string(),
            modules: "calendar".to_string(),
            tenants: 1,
            steps: 1,
            operator: "alice".to_string(),
            ssh_client: None,
            started_at: crate::clock::now(),
            finished_at: None,
            state: "running".to_string(),
            counts: JobCounts::default(),
            cancel_requested_by: None,
            cancel_requested_at: None,
        }
    }

    /// What `tests/races.rs` met on PostgreSQL: a rollback asks who keeps calendar's landlord
    /// scope while an install job records calendar on t1 and ends. However the two fall, the
    /// rollback sees the job or the tenant, never nobody.
    #[tokio::test]
    async fn a_job_that_records_its_install_and_ends_between_the_reads_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path()).await;
        let id = "20260101T000000000-0001";
        let lock = DatabaseLock::job("landlord", registry.db.address(), id)
            .await
            .unwrap();
        registry
            .start_job(&job(id), &["t1".to_string()], &["calendar".to_string()])
            .await
            .unwrap();
        let job_seen = Some(KeptBy::Job {
            id: id.to_string(),
            operator: "alice".to_string(),
        });
        assert_eq!(
            registry.kept_by("calendar", "other").await.unwrap(),
            job_seen
        );
        assert_eq!(registry.kept_by("calendar", id).await.unwrap(), None);

        let r = &registry;
        let install_and_end = async move {
            r.write(&[RegistryWrite::Installation {
                tenant: "t1".to_string(),
                module: "calendar".to_string(),
                state: InstallState::Installed,
                version: "1.0.0".to_string(),
                applied: None,
                error: None,
            }])
            .await
            .unwrap();
            r.finish_job(id, "succeeded", &JobCounts::default())
                .await
                .unwrap();
            lock.release();
        };
        let kept = registry
            .kept_by_meanwhile("calendar", "other", install_and_end)
            .await
            .unwrap();
        assert_eq!(kept, Some(KeptBy::Tenants(vec!["t1".to_string()])));
        assert_eq!(
            registry.kept_by("calendar", "other").await.unwrap(),
            Some(KeptBy::Tenants(vec!["t1".to_string()]))
        );
        registry.close().await;
    }

    /// A batch is written class by class, a few multi-row statements: an installation's
    /// upserts and removals keep their order, and one installation written twice in a batch
    /// takes two statements (one statement may not upsert a row twice).
    #[tokio::test]
    async fn a_batch_keeps_the_order_of_each_installations_writes() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry(dir.path()).await;
        let id = "20260101T000000000-0002";
        registry
            .start_job(&job(id), &["t1".to_string()], &[])
            .await
            .unwrap();
        let install = |module: &str, state| RegistryWrite::Installation {
            tenant: "t1".to_string(),
            module: module.to_string(),
            state,
            version: "1.0.0".to_string(),
            applied: None,
            error: None,
        };
        let removal = |module: &str| RegistryWrite::Removal {
            tenant: "t1".to_string(),
            module: module.to_string(),
            unless_after: None,
        };
        let history = |module: &str| {
            RegistryWrite::History(crate::registry::HistoryEntry {
                job_id: id.to_string(),
                tenant: Some("t1".to_string()),
                module: Some(module.to_string()),
                scope: "tenant".to_string(),
                action: "install".to_string(),
                operator: "alice".to_string(),
                ssh_client: None,
                started_at: crate::clock::now(),
                finished_at: crate::clock::now(),
                duration_ms: 1,
                migrations: "1".to_string(),
                outcome: "succeeded".to_string(),
                error: None,
            })
        };
        registry
            .write(&[
                history("a"),
                install("a", InstallState::Failed),
                removal("a"),
                install("b", InstallState::Installed),
                history("b"),
                install("a", InstallState::Installed),
                install("c", InstallState::Installed),
                install("c", InstallState::Failed),
                removal("b"),
            ])
            .await
            .unwrap();
        let db = &registry.db;
        let rows: Vec<(String, String)> = crate::on_pool!(db, pool => {
            sqlx::query_as("SELECT module, state FROM estate_tenant_modules ORDER BY module")
                .fetch_all(pool)
                .await
                .unwrap()
        });
        assert_eq!(
            rows,
            vec![
                ("a".to_string(), "installed".to_string()),
                ("c".to_string(), "failed".to_string())
            ]
        );
        let (history,): (i64,) = crate::on_pool!(db, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM estate_history")
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(history, 2);
        registry.close().await;
    }
}
