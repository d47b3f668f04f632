//! The landlord store: reading and writing the registry's tables.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::catalog::{Catalog, Migration, MigrationSet, REGISTRY_CONTEXT, Scope, SqlFile};
use crate::clock::now;
use crate::config::Config;
use crate::database::{Database, Engine, Open};
use crate::error::{Error, Result};
use crate::migrator::{Applied, ModuleMigrator, RunContext, SqlMigrator, Target};
use crate::tenancy::{Placement, Slug};

/// One embedded file of the registry's own migrations.
struct Embedded {
    version: i64,
    name: &'static str,
    /// `None` for the generic file, as in a context's folder.
    engine: Option<Engine>,
    up: &'static str,
    down: &'static str,
}

/// The registry's own migrations, embedded so the binary carries its schema.
const REGISTRY_MIGRATIONS: &[Embedded] = &[
    Embedded {
        version: 1,
        name: "create_registry",
        engine: None,
        up: include_str!("migrations/0001_create_registry.up.sql"),
        down: include_str!("migrations/0001_create_registry.down.sql"),
    },
    Embedded {
        version: 1,
        name: "create_registry",
        engine: Some(Engine::Postgres),
        up: include_str!("migrations/0001_create_registry.up.postgres.sql"),
        down: include_str!("migrations/0001_create_registry.down.sql"),
    },
    Embedded {
        version: 2,
        name: "add_tenant_placement",
        engine: None,
        up: include_str!("migrations/0002_add_tenant_placement.up.sql"),
        down: include_str!("migrations/0002_add_tenant_placement.down.sql"),
    },
    Embedded {
        version: 3,
        name: "add_applied_version",
        engine: None,
        up: include_str!("migrations/0003_add_applied_version.up.sql"),
        down: include_str!("migrations/0003_add_applied_version.down.sql"),
    },
    Embedded {
        version: 4,
        name: "add_job_tenants",
        engine: None,
        up: include_str!("migrations/0004_add_job_tenants.up.sql"),
        down: include_str!("migrations/0004_add_job_tenants.down.sql"),
    },
];

/// The migrator of the registry's own schema.
pub fn registry_migrator() -> SqlMigrator {
    let dir = PathBuf::from(format!("<embedded>/{REGISTRY_CONTEXT}"));
    let mut migrations: BTreeMap<i64, Migration> = BTreeMap::new();
    for e in REGISTRY_MIGRATIONS {
        let suffix = e.engine.map(|e| format!(".{e}")).unwrap_or_default();
        let m = migrations.entry(e.version).or_insert_with(|| Migration {
            version: e.version,
            description: e.name.replace('_', " "),
            ups: BTreeMap::new(),
            downs: BTreeMap::new(),
            blueprint: None,
        });
        let file = |dir: &PathBuf, direction: &str, sql: &str| {
            SqlFile::new(
                dir.join(format!(
                    "{:04}_{}.{direction}{suffix}.sql",
                    e.version, e.name
                )),
                sql.to_string(),
            )
        };
        m.ups.insert(e.engine, file(&dir, "up", e.up));
        m.downs.insert(e.engine, file(&dir, "down", e.down));
    }
    let set = MigrationSet {
        context: REGISTRY_CONTEXT.to_string(),
        scope: Scope::Landlord,
        dir,
        migrations: migrations.into_values().collect(),
    };
    SqlMigrator::new(REGISTRY_CONTEXT, BTreeMap::from([(Scope::Landlord, set)]))
}

/// Whether a module is installed for a tenant, or its last install/upgrade/rollback failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallState {
    Installed,
    Failed,
}

impl InstallState {
    fn parse(s: &str) -> InstallState {
        if s == "installed" {
            InstallState::Installed
        } else {
            InstallState::Failed
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            InstallState::Installed => "installed",
            InstallState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantRecord {
    pub slug: String,
    pub name: String,
    pub placement: Placement,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Installation {
    pub tenant: String,
    pub module: String,
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
    /// The module was rolled back for the tenant.
    Removal {
        tenant: String,
        module: String,
    },
    History(HistoryEntry),
}

/// What the matrix reads of an installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationState {
    pub tenant: String,
    pub module: String,
    pub state: InstallState,
    pub applied_version: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    tenant: String,
    module: String,
    state: String,
    module_version: String,
    installed_at: Option<String>,
    updated_at: String,
    error: Option<String>,
    applied_version: Option<i64>,
    applied_digest: Option<String>,
}

impl From<InstallationRow> for Installation {
    fn from(r: InstallationRow) -> Installation {
        Installation {
            tenant: r.tenant,
            module: r.module,
            state: InstallState::parse(&r.state),
            module_version: r.module_version,
            installed_at: r.installed_at,
            updated_at: r.updated_at,
            error: r.error,
            applied_version: r.applied_version,
            applied_digest: r.applied_digest,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub job_id: String,
    /// `None` for a step on the landlord scope.
    pub tenant: Option<String>,
    pub module: String,
    pub scope: String,
    pub action: String,
    pub operator: String,
    pub ssh_client: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: i64,
    /// The versions applied or reverted, comma-separated.
    pub migrations: String,
    pub outcome: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub module: Option<String>,
    pub tenant: Option<String>,
    pub limit: Option<i64>,
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
    pub failed: i64,
    pub skipped: i64,
}

/// The landlord database seen as the registry.
pub struct Registry {
    db: Database,
}

impl Registry {
    /// Opens the landlord and brings the registry's own schema up to date, creating both at
    /// first use. With `read_only`, nothing is created or migrated: a missing or outdated
    /// registry is refused instead.
    pub async fn open(config: &Config, read_only: bool, applied_by: &str) -> Result<Registry> {
        let address = &config.landlord;
        if read_only && !Database::exists(address).await? {
            return Err(Error::refused(
                format!(
                    "the landlord database ({}) does not exist yet",
                    address.describe()
                ),
                "run estate once without --read-only (e.g. `estate tenants add SLUG`) to create it",
            ));
        }
        let open = if read_only {
            Open::Existing
        } else {
            Open::CreateIfMissing
        };
        let db = Database::open("landlord", address, open).await?;
        let migrator = registry_migrator();
        let status = migrator.status(Scope::Landlord, &db).await?;
        if !status.pending.is_empty() {
            if read_only {
                return Err(Error::refused(
                    "the registry's schema in the landlord is older than this estate",
                    "run estate once without --read-only to upgrade it",
                ));
            }
            let _lock = db.lock(config.lock_wait).await?;
            migrator
                .migrate(
                    Scope::Landlord,
                    &db,
                    Target::Latest,
                    &RunContext::new(applied_by),
                )
                .await?;
            tracing::info!("registry schema migrated");
        }
        Ok(Registry { db })
    }

    /// The landlord database, where landlord-scope migrations also run.
    pub fn landlord(&self) -> &Database {
        &self.db
    }

    fn err(&self, e: sqlx::Error) -> Error {
        Error::db(self.db.label(), e)
    }

    /// Records the catalog in `estate_modules`, writing only rows that changed, so a run with
    /// an unchanged catalog leaves the landlord untouched.
    pub async fn sync_catalog(&self, catalog: &Catalog) -> Result<usize> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
                "SELECT name, title, version, description, requires FROM estate_modules",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            let known: BTreeMap<String, (String, String, String, String)> = rows
                .into_iter()
                .map(|(n, t, v, d, r)| (n, (t, v, d, r)))
                .collect();
            let mut changed = 0;
            for context in catalog.contexts.values() {
                let m = &context.manifest;
                let row = (
                    m.title.clone(),
                    m.version.clone(),
                    m.description.clone(),
                    m.requires.join(","),
                );
                if known.get(&m.name) == Some(&row) {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO estate_modules (name, title, version, description, requires, synced_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO UPDATE SET title = excluded.title, version = excluded.version,
                       description = excluded.description, requires = excluded.requires, synced_at = excluded.synced_at",
                )
                .bind(&m.name)
                .bind(&row.0)
                .bind(&row.1)
                .bind(&row.2)
                .bind(&row.3)
                .bind(now())
                .execute(pool)
                .await
                .map_err(|e| self.err(e))?;
                changed += 1;
            }
            if changed > 0 {
                tracing::info!(changed, "catalog synced into the registry");
            }
            Ok(changed)
        })
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<TenantRow> = sqlx::query_as(
                "SELECT slug, name, engine, server, location, schema_name, created_at FROM estate_tenants ORDER BY slug",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            let tenants: Vec<TenantRecord> =
                rows.into_iter().map(tenant_record).collect::<Result<_>>()?;
            let mut owners: HashMap<String, &str> = HashMap::with_capacity(tenants.len());
            for t in &tenants {
                if let Some(other) = owners.insert(t.placement.describe(), &t.slug) {
                    return Err(shared_placement(other, &t.slug, &t.placement));
                }
            }
            Ok(tenants)
        })
    }

    pub async fn tenant(&self, slug: &str) -> Result<Option<TenantRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let row: Option<TenantRow> = sqlx::query_as(
                "SELECT slug, name, engine, server, location, schema_name, created_at FROM estate_tenants WHERE slug = $1",
            )
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(|e| self.err(e))?;
            let Some(record) = row.map(tenant_record).transpose()? else {
                return Ok(None);
            };
            let other: Option<(String,)> = sqlx::query_as(
                "SELECT slug FROM estate_tenants WHERE slug <> $1 AND engine = $2 AND location = $3
                 AND COALESCE(server, '') = COALESCE($4, '') AND COALESCE(schema_name, '') = COALESCE($5, '')",
            )
            .bind(slug)
            .bind(record.placement.engine.as_str())
            .bind(&record.placement.location)
            .bind(&record.placement.server)
            .bind(&record.placement.schema)
            .fetch_optional(pool)
            .await
            .map_err(|e| self.err(e))?;
            match other {
                Some((other,)) => Err(shared_placement(&other, slug, &record.placement)),
                None => Ok(Some(record)),
            }
        })
    }

    pub async fn add_tenant(
        &self,
        slug: &Slug,
        name: &str,
        placement: &Placement,
    ) -> Result<TenantRecord> {
        let record = TenantRecord {
            slug: slug.to_string(),
            name: name.to_string(),
            placement: placement.clone(),
            created_at: now(),
        };
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query(
                "INSERT INTO estate_tenants (slug, name, engine, server, location, schema_name, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&record.slug)
            .bind(&record.name)
            .bind(placement.engine.as_str())
            .bind(&placement.server)
            .bind(&placement.location)
            .bind(&placement.schema)
            .bind(&record.created_at)
            .execute(pool)
            .await
            .map_err(|e| self.err(e))?;
        });
        Ok(record)
    }

    /// Every installation of every tenant, in one query.
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<InstallationRow> = sqlx::query_as(
                "SELECT tenant, module, state, module_version, installed_at, updated_at, error,
                   applied_version, applied_digest
                 FROM estate_tenant_modules ORDER BY tenant, module",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(Installation::from).collect())
        })
    }

    /// Every installation's state and applied version, in one narrow query: what the matrix
    /// needs for thousands of tenants, without the columns it does not show.
    pub async fn installation_states(&self) -> Result<Vec<InstallationState>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
                "SELECT tenant, module, state, applied_version FROM estate_tenant_modules",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows
                .into_iter()
                .map(|(tenant, module, state, applied_version)| InstallationState {
                    tenant,
                    module,
                    state: InstallState::parse(&state),
                    applied_version,
                })
                .collect())
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

    /// Writes `writes` in one transaction: a job's recorder batches what its events say, so
    /// a thousand tenants cost a few landlord commits, not two each.
    pub async fn write(&self, writes: &[RegistryWrite]) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let at = now();
        for w in writes {
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
                    RegistryWrite::Removal { tenant, module } => {
                        sqlx::query("DELETE FROM estate_tenant_modules WHERE tenant = $1 AND module = $2")
                            .bind(tenant)
                            .bind(module)
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
                };
                done.map_err(|e| self.err(e))?;
            });
        }
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

    /// Every installation, by (tenant, module).
    pub async fn installations_by_key(&self) -> Result<BTreeMap<(String, String), Installation>> {
        Ok(self
            .installations()
            .await?
            .into_iter()
            .map(|i| ((i.tenant.clone(), i.module.clone()), i))
            .collect())
    }

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

    /// History, oldest first; the newest `limit` rows when there is a limit. A tenant filter
    /// shows that tenant's rows only, so the answer is exactly "what ran there".
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, HistoryEntry>(
                "SELECT job_id, tenant, module, scope, action, operator, ssh_client, started_at, finished_at,
                        duration_ms, migrations, outcome, error
                 FROM estate_history
                 WHERE (CAST($1 AS TEXT) IS NULL OR module = $1) AND (CAST($2 AS TEXT) IS NULL OR tenant = $2)
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(&filter.module)
            .bind(&filter.tenant)
            .bind(filter.limit.unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
            .map(|mut rows| {
                rows.reverse();
                rows
            })
            .map_err(|e| self.err(e))
        })
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    slug: String,
    name: String,
    engine: String,
    server: Option<String>,
    location: String,
    schema_name: Option<String>,
    created_at: String,
}

/// Two tenant rows name one database: a hand edit, and either would migrate the other's.
fn shared_placement(a: &str, b: &str, placement: &Placement) -> Error {
    Error::refused(
        format!(
            "the registry places tenants {a} and {b} both at {}",
            placement.describe()
        ),
        "correct the location of the wrong one in the landlord's estate_tenants table",
    )
}

/// A tenant row as estate uses it, its slug checked again: a row edited by hand must not turn
/// into a file name, a database name or a schema name unchecked.
fn tenant_record(r: TenantRow) -> Result<TenantRecord> {
    if let Err(e) = Slug::parse(&r.slug) {
        // The slug's own fix (choose another) is for a slug being typed, not one on file.
        let why = match e {
            Error::Refused { problem, .. } => problem,
            other => other.to_string(),
        };
        return Err(Error::refused(
            format!(
                "the registry holds a tenant whose slug {:?} is not valid: {why}",
                r.slug
            ),
            "correct or remove that row of the landlord's estate_tenants table",
        ));
    }
    // A placement written by a newer estate with an engine this one lacks still lists; opening
    // it fails with the engine named.
    let engine = Engine::parse(&r.engine).unwrap_or_default();
    Ok(TenantRecord {
        slug: r.slug,
        name: r.name,
        placement: Placement {
            engine,
            server: r.server,
            location: r.location,
            schema: r.schema_name,
        },
        created_at: r.created_at,
    })
}
