//! Planning: turning "install digital_card for acme" into the ordered, validated steps a job
//! will run, before anything runs.
//!
//! A plan is refused as a whole (exit status 2) when a module or tenant is unknown, a
//! dependency blocks it, a tenant database is missing or an applied migration drifted. Install
//! adds the requires closure, dependencies first, and runs the landlord scope once before the
//! tenant scopes; rollback takes dependants first (refused unless `--cascade`), tenant scopes
//! before the landlord scope, and reverts a module's landlord scope only when no tenant keeps
//! the module.
//!
//! Planning reads the registry (what is installed where) and each database's ledger through
//! the migrators; it writes nothing. This file holds what a plan is and the pieces the
//! planners share; each planner has its own file, beside the tenant resolution and the
//! per-database checks they all use.

mod adopt;
mod checks;
mod install;
mod installs;
mod migrate;
mod rollback;
mod tenants;
mod version;
mod waves;

pub use version::Direction;
pub use waves::{WaveOrder, WaveSize, check_waves};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use installs::Installs;

use serde::Serialize;

use crate::catalog::{Catalog, DependencyGraph, Scope};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::migrator::{LedgerEntry, MigrationInfo, ModuleMigrator};
use crate::registry::{Registry, TenantRecord};
use crate::sql::Engine;
use crate::tenancy::{Slug, TagCondition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Install,
    Upgrade,
    Rollback,
    /// Records migrations another tool already applied, nothing run (`estate adopt`).
    Adopt,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::Rollback => "rollback",
            Action::Adopt => "adopt",
        }
    }

    pub fn is_down(self) -> bool {
        self == Action::Rollback
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which tenants a command targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSelection {
    All,
    Only(Vec<Slug>),
    /// The tenants whose tags meet every condition (`--where plan=enterprise`).
    Where(Vec<TagCondition>),
}

/// One context's migrator run on one scope of one database.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub module: String,
    pub scope: Scope,
    /// `None` for the landlord scope.
    pub tenant: Option<String>,
    pub action: Action,
    /// What the step will apply (ascending) or revert (newest first), as of planning. Shared:
    /// a fleet's tenants that apply the same migrations hold one list, not a copy each.
    pub migrations: Arc<[MigrationInfo]>,
    /// Why the step is there when the operator did not ask for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Modules whose steps on the same database must succeed first; if one fails, this step
    /// is skipped.
    pub after: Vec<String>,
    /// The database could not be reached while planning: `migrations` is not known.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
    /// Going down: the tables reverting `migrations` drops, read from their SQL (the
    /// responsibility matrix's reading); `None` going up, or when it cannot be known (a
    /// migration that runs Rust code, a database unreachable while planning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<Vec<String>>,
    /// The version the step stops at (`--to`): up to it, or down to it keeping it; `None`
    /// for the latest (up) or nothing left (down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

/// What a rollback drops in one scope of one module, over every database planned alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drops {
    pub module: String,
    pub scope: Scope,
    /// `None` when it cannot be known (see [`Step::drops`]).
    pub tables: Option<Vec<String>>,
    /// How many databases (tenants; 1 for the landlord) drop these.
    pub databases: usize,
}

/// The ordered, validated steps of one install, rollback or migrate.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub action: Action,
    /// The modules asked for.
    pub modules: Vec<String>,
    /// The tenants targeted.
    pub tenants: Vec<String>,
    /// Landlord steps, in order.
    pub landlord: Vec<Step>,
    /// Each tenant's steps, in order. Tenants run side by side.
    pub tenant_steps: BTreeMap<String, Vec<Step>>,
    /// Things the operator should know: dependencies added, modules already installed…
    pub notes: Vec<String>,
    /// Tenants planned from the registry alone, their databases not opened: the job checks
    /// each one's ledger for drift before its first step.
    #[serde(skip)]
    pub unverified: BTreeSet<String>,
}

impl Plan {
    /// Records one tenant's steps. A vector grown a push at a time holds room for four
    /// steps: at 100,000 tenants of one step each that was 64 MiB of a plan's peak.
    pub(crate) fn set_tenant_steps(&mut self, tenant: String, mut steps: Vec<Step>) {
        steps.shrink_to_fit();
        self.tenant_steps.insert(tenant, steps);
    }

    pub fn is_empty(&self) -> bool {
        self.landlord.is_empty() && self.tenant_steps.values().all(Vec::is_empty)
    }

    /// Every step in the order a sequential run would take.
    pub fn steps(&self) -> Vec<&Step> {
        let tenants = self.tenant_steps.values().flatten();
        if self.action.is_down() {
            tenants.chain(self.landlord.iter()).collect()
        } else {
            self.landlord.iter().chain(tenants).collect()
        }
    }

    /// Whether `now` runs the same steps over the same migrations as `shown`, plan by plan:
    /// a plan confirmed a while ago still stands.
    pub fn same_steps(shown: &[Plan], now: &[Plan]) -> bool {
        type StepKey<'a> = (&'a String, Scope, &'a Option<String>, Action, Vec<i64>);
        fn key(p: &Plan) -> (Action, Vec<StepKey<'_>>) {
            let steps = p
                .steps()
                .into_iter()
                .map(|s| {
                    let versions: Vec<i64> = s.migrations.iter().map(|m| m.version).collect();
                    (&s.module, s.scope, &s.tenant, s.action, versions)
                })
                .collect();
            (p.action, steps)
        }
        let shown: Vec<_> = shown.iter().filter(|p| !p.is_empty()).map(key).collect();
        let now: Vec<_> = now.iter().filter(|p| !p.is_empty()).map(key).collect();
        shown == now
    }

    pub fn step_count(&self) -> usize {
        self.landlord.len() + self.tenant_steps.values().map(Vec::len).sum::<usize>()
    }

    pub fn migration_count(&self) -> usize {
        self.steps().iter().map(|s| s.migrations.len()).sum()
    }

    /// What the plan's steps going down drop, per module and scope, the databases that drop
    /// the same tables counted together; steps that drop no table are left out.
    pub fn drops(&self) -> Vec<Drops> {
        let mut out: Vec<Drops> = Vec::new();
        for s in self.steps().into_iter().filter(|s| s.action.is_down()) {
            let tables = if s.unknown { None } else { s.drops.clone() };
            if tables.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            match out
                .iter_mut()
                .find(|d| d.module == s.module && d.scope == s.scope && d.tables == tables)
            {
                Some(d) => d.databases += 1,
                None => out.push(Drops {
                    module: s.module.clone(),
                    scope: s.scope,
                    tables,
                    databases: 1,
                }),
            }
        }
        out
    }
}

impl std::fmt::Display for Drops {
    /// `calendar, tenant scope of 3 tenant(s): drops events, calendars`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scope {
            Scope::Landlord => write!(f, "{}, landlord scope: ", self.module)?,
            Scope::Tenant => write!(
                f,
                "{}, tenant scope of {} tenant(s): ",
                self.module, self.databases
            )?,
        }
        match &self.tables {
            Some(tables) => write!(f, "drops {}", tables.join(", ")),
            None => f.write_str(
                "the tables it drops are not known (its migrator's own code, or unreachable while planning)",
            ),
        }
    }
}

/// Builds plans from the catalog, the migrators, the registry and the ledgers.
pub struct Planner<'a> {
    pub config: &'a Config,
    pub catalog: &'a Catalog,
    pub migrators: &'a BTreeMap<String, Arc<dyn ModuleMigrator>>,
    pub registry: &'a Registry,
    /// The ledger of each database checked while planning, by label: the status of every
    /// module there comes from this one read wherever the migrator can say it from a ledger.
    pub ledgers: std::sync::Mutex<BTreeMap<String, Arc<Vec<LedgerEntry>>>>,
    /// Each module's tenant migrations on an engine after a version, asked of its migrator
    /// once: a hundred thousand tenants planned alike share one list.
    after: std::sync::Mutex<BTreeMap<AfterKey, Arc<[MigrationInfo]>>>,
}

/// A module, an engine, and the version above which its tenant migrations are asked for.
type AfterKey = (String, Engine, i64);

impl<'a> Planner<'a> {
    pub fn new(
        config: &'a Config,
        catalog: &'a Catalog,
        migrators: &'a BTreeMap<String, Arc<dyn ModuleMigrator>>,
        registry: &'a Registry,
    ) -> Planner<'a> {
        Planner {
            config,
            catalog,
            migrators,
            registry,
            ledgers: Default::default(),
            after: Default::default(),
        }
    }

    /// `module`'s tenant migrations on `engine` with a version above `from`, from the files.
    fn tenant_migrations_after(
        &self,
        module: &str,
        engine: Engine,
        from: i64,
    ) -> Result<Arc<[MigrationInfo]>> {
        let key = (module.to_string(), engine, from);
        if let Some(known) = crate::sync::lock(&self.after).get(&key) {
            return Ok(known.clone());
        }
        let known: Arc<[MigrationInfo]> = self
            .migrator(module)?
            .migrations(Scope::Tenant, engine)
            .into_iter()
            .filter(|i| i.version > from)
            .collect();
        crate::sync::lock(&self.after).insert(key, known.clone());
        Ok(known)
    }
}

/// One tenant planned: its slug, its steps, and a note when it could not be reached.
type TenantPlan = (String, Vec<Step>, Option<String>);

impl Planner<'_> {
    fn migrator(&self, module: &str) -> Result<&Arc<dyn ModuleMigrator>> {
        self.migrators.get(module).ok_or_else(|| {
            Error::refused(
                format!("module {module:?} has no migrator"),
                "register one for it, or add its migrations under contexts/",
            )
        })
    }

    async fn installs(&self) -> Result<Installs> {
        Ok(Installs::new(self.registry.installation_summaries().await?))
    }

    fn empty_plan(&self, action: Action, modules: &[String], tenants: &[TenantRecord]) -> Plan {
        Plan {
            action,
            modules: modules.to_vec(),
            tenants: tenants.iter().map(|t| t.slug.clone()).collect(),
            landlord: Vec::new(),
            tenant_steps: BTreeMap::new(),
            notes: Vec::new(),
            unverified: BTreeSet::new(),
        }
    }
}

/// For steps going up on one database: each waits for the steps of what it requires, directly
/// or through modules it requires (each module's requires closure is walked once, not once
/// per step).
fn set_after_up(graph: &DependencyGraph, steps: &mut [Step]) {
    let present: BTreeSet<String> = steps.iter().map(|s| s.module.clone()).collect();
    let mut memo: BTreeMap<String, Arc<BTreeSet<String>>> = BTreeMap::new();
    for s in steps.iter_mut() {
        let below = requires_closure(graph, &s.module, &mut memo);
        s.after = below
            .iter()
            .filter(|m| present.contains(*m))
            .cloned()
            .collect();
    }
}

/// Every module `module` requires, directly or not (itself excluded), memoised.
fn requires_closure(
    graph: &DependencyGraph,
    module: &str,
    memo: &mut BTreeMap<String, Arc<BTreeSet<String>>>,
) -> Arc<BTreeSet<String>> {
    if let Some(done) = memo.get(module) {
        return done.clone();
    }
    // Marked first, so a cycle (refused by `check`, but not trusted here) ends the walk.
    memo.insert(module.to_string(), Arc::default());
    let mut all = BTreeSet::new();
    for r in graph.requires(module) {
        all.insert(r.clone());
        all.extend(requires_closure(graph, r, memo).iter().cloned());
    }
    let all = Arc::new(all);
    memo.insert(module.to_string(), all.clone());
    all
}

fn no_tenants() -> Error {
    Error::refused(
        "there are no tenants yet",
        "add one with `estate tenants add SLUG`",
    )
}
