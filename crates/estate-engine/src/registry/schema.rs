//! Opening the landlord as the registry, and the registry's own schema.
//!
//! The registry's tables are a context too (`module_registry`, landlord only): its migrations
//! are embedded in the binary, so any estate can create or upgrade the landlord it opens, and
//! are run by the same SQL migrator as every context's, recorded in the same ledger. A landlord
//! without them is created only as `landlord::Creation` allows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Registry;
use super::landlord::{Creation, Evidence, refusal};
use crate::catalog::{Migration, MigrationSet, REGISTRY_CONTEXT, Scope, SqlFile};
use crate::config::Config;
use crate::database::{Address, Database, Engine, Open};
use crate::error::{Error, Result};
use crate::migrator::{Ledger, ModuleMigrator, RunContext, SqlMigrator, Target};

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
    Embedded {
        version: 5,
        name: "add_job_events",
        engine: None,
        up: include_str!("migrations/0005_add_job_events.up.sql"),
        down: include_str!("migrations/0005_add_job_events.down.sql"),
    },
    Embedded {
        version: 6,
        name: "add_job_installing",
        engine: None,
        up: include_str!("migrations/0006_add_job_installing.up.sql"),
        down: include_str!("migrations/0006_add_job_installing.down.sql"),
    },
    Embedded {
        version: 7,
        name: "add_adopt_history",
        engine: None,
        up: include_str!("migrations/0007_add_adopt_history.up.sql"),
        down: include_str!("migrations/0007_add_adopt_history.down.sql"),
    },
    Embedded {
        version: 7,
        name: "add_adopt_history",
        engine: Some(Engine::Postgres),
        up: include_str!("migrations/0007_add_adopt_history.up.postgres.sql"),
        down: include_str!("migrations/0007_add_adopt_history.down.postgres.sql"),
    },
    Embedded {
        version: 8,
        name: "add_tenant_lifecycle",
        engine: None,
        up: include_str!("migrations/0008_add_tenant_lifecycle.up.sql"),
        down: include_str!("migrations/0008_add_tenant_lifecycle.down.sql"),
    },
    Embedded {
        version: 8,
        name: "add_tenant_lifecycle",
        engine: Some(Engine::Postgres),
        up: include_str!("migrations/0008_add_tenant_lifecycle.up.postgres.sql"),
        down: include_str!("migrations/0008_add_tenant_lifecycle.down.postgres.sql"),
    },
    Embedded {
        version: 9,
        name: "add_installation_states_index",
        engine: None,
        up: include_str!("migrations/0009_add_installation_states_index.up.sql"),
        down: include_str!("migrations/0009_add_installation_states_index.down.sql"),
    },
];

/// The migrator of the registry's own schema.
fn registry_migrator() -> SqlMigrator {
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

impl Registry {
    /// Opens the landlord and brings the registry's own schema up to date. A landlord that
    /// holds no registry (no database, or one without the registry's tables) is refused, or
    /// created as `creation` allows (see `landlord`), and then the evidence of an earlier one
    /// it was created over comes back too (empty but with `Creation::Force`). With
    /// `read_only` in the config, nothing is created or migrated: a missing or outdated
    /// registry is refused instead.
    pub async fn open(
        config: &Config,
        creation: Creation,
        applied_by: &str,
    ) -> Result<(Registry, Option<Evidence>)> {
        let address = &config.landlord;
        let read_only = config.read_only;
        let migrator = registry_migrator();
        let mut db = existing(address).await?;
        if let Some(found) = &db
            && let Err(e) = refuse_a_tenant(found).await
        {
            found.close().await;
            return Err(e);
        }
        let mut status = match &db {
            Some(db) => Some(migrator.status(Scope::Landlord, db).await?),
            None => None,
        };
        let mut created_over = None;
        if status.as_ref().is_none_or(|s| s.applied.is_empty()) {
            let creation = if read_only { Creation::Never } else { creation };
            let evidence = Evidence::gather(config).await;
            let refused = match creation {
                Creation::Never => true,
                Creation::IfNew => evidence.found() || !evidence.tenants.unknown.is_empty(),
                Creation::Force => false,
            };
            if refused {
                let exists = db.is_some();
                if let Some(db) = db {
                    db.close().await;
                }
                return Err(refusal(config, exists, creation, &evidence));
            }
            if evidence.found() {
                tracing::warn!(evidence = %evidence.describe(), "a new registry is created over evidence of an earlier one (--force)");
            }
            let fresh = match db {
                Some(db) => db,
                None => Database::open("landlord", address, Open::CreateIfMissing).await?,
            };
            status = Some(migrator.status(Scope::Landlord, &fresh).await?);
            db = Some(fresh);
            created_over = Some(evidence);
        }
        let (Some(db), Some(status)) = (db, status) else {
            unreachable!("the landlord was opened or created above");
        };
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
        Ok((Registry::new(db), created_over))
    }

    /// Whether the landlord holds a registry, creating nothing.
    pub async fn exists(config: &Config) -> Result<bool> {
        let Some(db) = existing(&config.landlord).await? else {
            return Ok(false);
        };
        let status = registry_migrator().status(Scope::Landlord, &db).await;
        db.close().await;
        Ok(!status?.applied.is_empty())
    }
}

/// Refuses a landlord whose ledger holds tenant-scope migrations: it is a tenant's database
/// (`ESTATE_LANDLORD_PATH` pointed at one), and the registry must never be written into it.
async fn refuse_a_tenant(db: &Database) -> Result<()> {
    let tenant_rows: std::collections::BTreeSet<String> = Ledger::all(db)
        .await?
        .into_iter()
        .filter(|e| e.scope == Scope::Tenant.as_str())
        .map(|e| e.context)
        .collect();
    if tenant_rows.is_empty() {
        return Ok(());
    }
    Err(Error::refused(
        format!(
            "the landlord ({}) holds a tenant's migrations ({} in its ledger's tenant scope): it is a tenant's database, not the landlord",
            db.address().describe(),
            tenant_rows.into_iter().collect::<Vec<_>>().join(", ")
        ),
        "point [landlord] in the config (or ESTATE_LANDLORD_PATH) at the landlord's own database; nothing was written",
    ))
}

/// The landlord database opened when it exists; `None` when it does not (found out without
/// creating anything, and without a round trip more than opening it when it is there).
async fn existing(address: &Address) -> Result<Option<Database>> {
    match Database::open("landlord", address, Open::Existing).await {
        Ok(db) => Ok(Some(db)),
        Err(e) if e.is_refusal() => match Database::exists(address).await? {
            // Another estate made it between the two questions (two first `tenants add` at
            // once): it is there now. A refusal for another reason comes back again.
            true => Database::open("landlord", address, Open::Existing)
                .await
                .map(Some),
            false => Ok(None),
        },
        Err(e) => Err(e),
    }
}
