//! `estate verify`: the registry, every database's ledger and the migration files, compared.
//!
//! Each finding names the database, what is wrong and the fix: a tenant database that is gone
//! or cannot be reached; an applied migration whose file changed (drift) or vanished; a table
//! no applied migration creates (applied by hand, or by a migration whose ledger row is gone,
//! as far as a ledger can tell: a table's owner is read from the CREATE TABLE statements of
//! the contexts applied there); registry rows that disagree with the ledger; a tenant database
//! no registry row names (when every tenant is verified); the dependency graph broken in the
//! ledgers (`graph_check.rs`). Only registry rows are repaired
//! (`--repair`): the ledger, written with the migrations, is the truth, and the
//! registry is rewritten from it. The rest needs an operator.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Project;
use crate::catalog::{REGISTRY_CONTEXT, Scope, describe_roots, left_by_scripts};
use crate::database::Database;
use crate::error::Result;
use crate::migrator::{LEDGER_TABLE, Ledger, LedgerEntry, Standing, UNFINISHED_TABLE, Unfinished};
use crate::plan::TenantSelection;
use crate::registry::{RegistryWrite, TenantRecord, repairs};
use crate::sql::Engine;
use crate::tenancy::discover;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    MissingDatabase,
    Unreachable,
    ChangedFile,
    VanishedFile,
    UnrecordedTable,
    RegistryDisagrees,
    /// A `-- no-transaction` migration stopped partway.
    UnfinishedMigration,
    /// A tenant database where the tenancy templates put them that no registry row names.
    UnregisteredDatabase,
    /// A module applied on a tenant whose requirement is not (see `project/graph_check.rs`).
    MissingRequirement,
    /// A module's landlord scope applied while no tenant keeps the module.
    OrphanLandlordScope,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `landlord` or the tenant's slug.
    pub database: String,
    pub kind: FindingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub detail: String,
    pub fix: String,
    /// `--repair` fixes it.
    pub repairable: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// What is wrong now (after the repair, with `--repair`).
    pub findings: Vec<Finding>,
    /// Registry rows rewritten from the ledgers.
    pub repaired: usize,
    /// What this binary could not judge (a module whose migrator another binary holds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What one verify carries from a database to the next.
#[derive(Default)]
struct Pass {
    /// (module, binary) -> databases where that module's rows were left to that binary.
    elsewhere: BTreeMap<(String, String), usize>,
    /// The tables a Rust migrator's scripts create, read once per context, scope and engine
    /// rather than once per database.
    scripted: BTreeMap<(String, Scope, Engine), Vec<String>>,
}

impl Project {
    /// Compares the registry, the ledgers and the files for the landlord and the selected
    /// tenants; with `repair`, rewrites the registry rows that disagree with the ledgers.
    pub async fn verify(&self, selection: &TenantSelection, repair: bool) -> Result<VerifyReport> {
        if repair {
            self.ensure_writable("verify --repair")?;
        }
        let tenants = self.planner().resolve_tenants(selection).await?;
        let installs = self.registry.installations_by_key().await?;
        let mut report = VerifyReport::default();
        let mut pass = Pass::default();
        let landlord = self.registry.landlord();
        let ledger = Ledger::all(landlord).await?;
        self.check_database(
            "landlord",
            landlord,
            Scope::Landlord,
            &ledger,
            &mut report,
            &mut pass,
        )
        .await?;
        let mut writes: Vec<RegistryWrite> = Vec::new();
        // The modules some verified tenant's ledger has.
        let mut kept: BTreeSet<String> = BTreeSet::new();
        for t in &tenants {
            let place = t.placement.describe();
            let finding = |kind, detail: String, fix: &str| Finding {
                database: t.slug.clone(),
                kind,
                module: None,
                detail,
                fix: fix.to_string(),
                repairable: false,
            };
            match t.placement.exists(&self.config).await {
                Ok(true) => {}
                Ok(false) => {
                    report.findings.push(finding(
                        FindingKind::MissingDatabase,
                        format!("its database ({place}) does not exist"),
                        "restore it from a backup; its registry rows say what it had",
                    ));
                    continue;
                }
                Err(e) => {
                    report.findings.push(finding(
                        FindingKind::Unreachable,
                        format!("its database ({place}) cannot be reached: {e}"),
                        "bring its server back, then verify again",
                    ));
                    continue;
                }
            }
            let db = match t.placement.open(&self.config, &t.slug).await {
                Ok(db) => db,
                Err(e) => {
                    report.findings.push(finding(
                        FindingKind::Unreachable,
                        format!("its database ({place}) cannot be opened: {e}"),
                        "bring its server back, then verify again",
                    ));
                    continue;
                }
            };
            let ledger = Ledger::all(&db).await;
            let checked = match &ledger {
                Ok(ledger) => {
                    self.check_database(&t.slug, &db, Scope::Tenant, ledger, &mut report, &mut pass)
                        .await
                }
                Err(_) => Ok(()),
            };
            db.close().await;
            // One unreadable tenant (a corrupt file, a server gone mid-way) is its finding;
            // the others are still verified.
            let ledger = match checked.and(ledger) {
                Ok(ledger) => ledger,
                Err(e) => {
                    report.findings.push(finding(
                        FindingKind::Unreachable,
                        format!("its database ({place}) cannot be read: {e}"),
                        "restore it from a backup (or bring its server back), then verify again",
                    ));
                    continue;
                }
            };
            kept.extend(self.missing_requirements(&t.slug, &ledger, &mut report));
            for w in repairs(&t.slug, &ledger, &installs, &self.catalog, &self.migrators) {
                if !repair {
                    report.findings.extend(disagreement(&w));
                }
                writes.push(w);
            }
        }
        if *selection == TenantSelection::All {
            self.unregistered(&tenants, &mut report).await;
            self.orphan_landlord_scopes(&ledger, &kept, &installs, &mut report);
        }
        for ((module, binary), databases) in pass.elsewhere {
            report.notes.push(format!(
                "{module}'s migrations and tables are known only to the binary `{binary}`: in {databases} {} they were not judged, nor tables no other context creates; run `{binary} verify` for them",
                if databases == 1 { "database" } else { "databases" }
            ));
        }
        if repair {
            report.repaired = writes.len();
            self.registry.write(&writes).await?;
            tracing::info!(
                repaired = report.repaired,
                "registry repaired from the ledgers"
            );
        }
        Ok(report)
    }

    /// The ledger against the files, and the tables against what the ledger says made them.
    async fn check_database(
        &self,
        label: &str,
        db: &Database,
        scope: Scope,
        ledger: &[LedgerEntry],
        report: &mut VerifyReport,
        pass: &mut Pass,
    ) -> Result<()> {
        let finding = |kind, module: &str, detail: String, fix: &str| Finding {
            database: label.to_string(),
            kind,
            module: Some(module.to_string()),
            detail,
            fix: fix.to_string(),
            repairable: false,
        };
        for u in Unfinished::all(db).await? {
            report.findings.push(finding(
                FindingKind::UnfinishedMigration,
                &u.context,
                u.describe(),
                &u.fix(db),
            ));
        }
        let mut applied_contexts: BTreeSet<&str> = BTreeSet::new();
        let mut elsewhere: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut by_program = false;
        for entry in ledger {
            if entry.context == REGISTRY_CONTEXT {
                continue;
            }
            let Some(entry_scope) = Scope::parse(&entry.scope) else {
                continue;
            };
            applied_contexts.insert(&entry.context);
            let Some(migrator) = self.migrators.get(&entry.context) else {
                report.findings.push(finding(
                    FindingKind::VanishedFile,
                    &entry.context,
                    format!(
                        "{} {} migration {} ({}) is applied, but the context is no longer in {}",
                        entry.context,
                        entry.scope,
                        entry.version,
                        entry.description,
                        describe_roots(&self.catalog.roots)
                    ),
                    "restore the context's folder (git log shows it); applied migrations must stay",
                ));
                continue;
            };
            if let Some(binary) = migrator.elsewhere() {
                // Its migrations are that binary's to know: neither their files nor their
                // tables can be judged here.
                elsewhere.insert((entry.context.as_str(), binary));
                continue;
            }
            if migrator.keeps_own_ledger() {
                // The program's ledger is the truth; these rows mirror it at its last call,
                // and the tables it makes are its own to know.
                by_program = true;
                continue;
            }
            let known = migrator.migrations(entry_scope, db.engine());
            let info = known.iter().find(|m| m.version == entry.version);
            match Standing::of(entry, info) {
                Standing::Gone => report.findings.push(finding(
                    FindingKind::VanishedFile,
                    &entry.context,
                    format!(
                        "{} {} migration {} ({}) is applied, but its file is gone",
                        entry.context, entry.scope, entry.version, entry.description
                    ),
                    "restore the migration file (git log shows it); applied migrations must stay",
                )),
                Standing::Changed(d) => report.findings.push(finding(
                    FindingKind::ChangedFile,
                    &entry.context,
                    format!(
                        "{} changed after it was applied: the ledger recorded {}, the file has {}",
                        d.source, d.recorded, d.actual
                    ),
                    "restore the file as it was applied and put the change in a new migration",
                )),
                Standing::Intact => {}
            }
        }
        let mut owned: BTreeSet<String> =
            BTreeSet::from([LEDGER_TABLE.to_string(), UNFINISHED_TABLE.to_string()]);
        for context in &applied_contexts {
            owned.extend(self.tables_of(context, scope, db.engine(), &mut pass.scripted));
        }
        for (context, binary) in &elsewhere {
            *pass
                .elsewhere
                .entry((context.to_string(), binary.to_string()))
                .or_default() += 1;
        }
        for table in db.tables().await? {
            // The registry's own tables live in the landlord beside the contexts'.
            let registry_table = scope == Scope::Landlord && table.starts_with("estate_");
            if owned.contains(&table) || registry_table {
                continue;
            }
            let owner = self
                .catalog
                .tables
                .owners(scope, &table)
                .map(|(context, _)| context.to_string())
                .next();
            if owner.is_none() && (by_program || !elsewhere.is_empty()) {
                continue;
            }
            report.findings.push(Finding {
                database: label.to_string(),
                kind: FindingKind::UnrecordedTable,
                detail: match &owner {
                    Some(o) => format!(
                        "table {table} is there, but the ledger has no {o} {scope} migration applied that creates it"
                    ),
                    None => format!("table {table} is there, but no migration of any context creates it"),
                },
                module: owner,
                fix: "it was made by hand, or its migration's ledger row is gone: drop it, or restore the ledger row if the migration really ran".to_string(),
                repairable: false,
            });
        }
        Ok(())
    }
}

impl Project {
    /// The tenant databases where the tenancy templates put them that no registry row names:
    /// left over from a tenant removed by hand, or the sign of a registry restored from an
    /// older backup.
    async fn unregistered(&self, tenants: &[TenantRecord], report: &mut VerifyReport) {
        let known: BTreeSet<String> = tenants.iter().map(|t| t.placement.describe()).collect();
        let discovery = discover(&self.config).await;
        for found in discovery.found {
            let place = found.placement.describe();
            if known.contains(&place) {
                continue;
            }
            let (what, remove) = match (&found.placement.server, &found.placement.schema) {
                (None, _) => ("file", "remove the file"),
                (Some(_), Some(_)) => ("schema", "drop the schema"),
                (Some(_), None) => ("database", "drop the database"),
            };
            report.findings.push(Finding {
                database: found.slug.to_string(),
                kind: FindingKind::UnregisteredDatabase,
                module: None,
                detail: format!(
                    "a tenant database ({place}) is there, but no registry row names tenant {}",
                    found.slug
                ),
                fix: format!(
                    "if the tenant belongs in the registry, restore the landlord from a backup that has it; if it is left over, {remove} ({what} {place})"
                ),
                repairable: false,
            });
        }
        for unknown in discovery.unknown {
            report.findings.push(Finding {
                database: "landlord".to_string(),
                kind: FindingKind::Unreachable,
                module: None,
                detail: format!(
                    "tenant databases no registry row names could not be looked for: {unknown}"
                ),
                fix: "bring it back, then verify again".to_string(),
                repairable: false,
            });
        }
    }

    /// The tables `context`'s applied migrations create in `scope`: the catalog's table map
    /// for a context of files, else what its migrator's up scripts create (a Rust migrator
    /// that hands its SQL over), kept in `scripted`.
    fn tables_of(
        &self,
        context: &str,
        scope: Scope,
        engine: Engine,
        scripted: &mut BTreeMap<(String, Scope, Engine), Vec<String>>,
    ) -> Vec<String> {
        let from_files = self.catalog.tables.names(context, scope);
        if !from_files.is_empty() {
            return from_files;
        }
        let Some(migrator) = self.migrators.get(context) else {
            return Vec::new();
        };
        scripted
            .entry((context.to_string(), scope, engine))
            .or_insert_with(|| {
                let known = migrator.migrations(scope, engine);
                left_by_scripts(
                    known
                        .iter()
                        .filter_map(|m| Some((m.version, m.source.as_str(), m.up_sql.as_deref()?))),
                    engine,
                )
            })
            .clone()
    }
}

/// The finding a repair stands for (repairs are installations and removals).
fn disagreement(w: &RegistryWrite) -> Option<Finding> {
    let (tenant, module, detail) = match w {
        RegistryWrite::Installation {
            tenant,
            module,
            applied,
            ..
        } => (
            tenant,
            module,
            format!(
                "the registry does not say what the ledger does: {module} installed up to migration {}",
                applied.as_ref().map_or(0, |a| a.version)
            ),
        ),
        RegistryWrite::Removal { tenant, module, .. } => (
            tenant,
            module,
            format!("the registry says {module} is installed, but the ledger has none of it"),
        ),
        RegistryWrite::History(_) | RegistryWrite::Log { .. } | RegistryWrite::Progress { .. } => {
            return None;
        }
    };
    Some(Finding {
        database: tenant.clone(),
        kind: FindingKind::RegistryDisagrees,
        module: Some(module.clone()),
        detail,
        fix: "estate verify --repair rewrites the registry from the ledger".to_string(),
        repairable: true,
    })
}
