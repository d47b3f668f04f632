//! Planning: turning "install digital_card for acme" into the ordered, validated steps a job
//! will run, before anything runs.
//!
//! A plan is refused as a whole (exit status 2) when a module or tenant is unknown, a
//! dependency blocks it, a tenant database is missing or an applied migration drifted. Install
//! adds the requires closure, dependencies first, and runs the landlord scope once before the
//! tenant scopes; rollback takes dependants first (refused unless `--cascade`), tenant scopes
//! before the landlord scope, and reverts a module's landlord scope only when no tenant keeps
//! the module.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::store::{InstallState, Installation, Registry, TenantRecord};
use crate::catalog::{Catalog, Scope};
use crate::config::Config;
use crate::database::Database;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::migrator::{Applied, LedgerEntry, MigrationInfo, ModuleMigrator, ScopeStatus};
use crate::sql::Engine;
use crate::tenancy::Slug;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Install,
    Upgrade,
    Rollback,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::Rollback => "rollback",
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
}

/// One context's migrator run on one scope of one database.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub module: String,
    pub scope: Scope,
    /// `None` for the landlord scope.
    pub tenant: Option<String>,
    pub action: Action,
    /// What the step will apply (ascending) or revert (newest first), as of planning.
    pub migrations: Vec<MigrationInfo>,
    /// Why the step is there when the operator did not ask for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Modules whose steps on the same database must succeed first; if one fails, this step
    /// is skipped.
    pub after: Vec<String>,
    /// The database could not be reached while planning: `migrations` is not known.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
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

    pub fn step_count(&self) -> usize {
        self.landlord.len() + self.tenant_steps.values().map(Vec::len).sum::<usize>()
    }

    pub fn migration_count(&self) -> usize {
        self.steps().iter().map(|s| s.migrations.len()).sum()
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
}

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
        }
    }
}

type Installs = BTreeMap<String, BTreeMap<String, Installation>>;

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

    async fn check_modules(&self, modules: &[String]) -> Result<()> {
        self.catalog.ensure_valid()?;
        for m in modules {
            self.catalog.require(m)?;
        }
        self.verify_database(self.registry.landlord()).await
    }

    /// The tenants selected, each known to the registry.
    pub async fn resolve_tenants(&self, selection: &TenantSelection) -> Result<Vec<TenantRecord>> {
        match selection {
            TenantSelection::All => self.registry.tenants().await,
            TenantSelection::Only(slugs) => {
                let mut out = Vec::new();
                for slug in slugs {
                    let Some(t) = self.registry.tenant(slug.as_str()).await? else {
                        return Err(Error::refused(
                            format!("unknown tenant {:?}", slug.as_str()),
                            format!(
                                "`estate tenants list` shows the tenants; add this one with `estate tenants add {slug}`"
                            ),
                        ));
                    };
                    if !out.iter().any(|o: &TenantRecord| o.slug == t.slug) {
                        out.push(t);
                    }
                }
                Ok(out)
            }
        }
    }

    async fn installs(&self) -> Result<Installs> {
        let mut map: Installs = BTreeMap::new();
        for i in self.registry.installations().await? {
            map.entry(i.tenant.clone())
                .or_default()
                .insert(i.module.clone(), i);
        }
        Ok(map)
    }

    async fn open_tenant(&self, tenant: &TenantRecord) -> Result<Database> {
        let db = tenant.placement.open(self.config, &tenant.slug).await?;
        if let Err(e) = self.verify_database(&db).await {
            db.close().await;
            return Err(e);
        }
        Ok(db)
    }

    /// Opens a tenant for planning. A tenant whose server cannot be reached now is planned
    /// blind (its steps are tried when the job runs and fail naming the server) instead of
    /// refusing the whole plan: one server down must not stop the others' tenants.
    async fn open_for_plan(
        &self,
        tenant: &TenantRecord,
        plan: &mut Plan,
    ) -> Result<Option<Database>> {
        match self.open_tenant(tenant).await {
            Ok(db) => Ok(Some(db)),
            Err(e) if !e.is_refusal() => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "tenant unreachable while planning");
                plan.notes.push(format!(
                    "{} cannot be reached now ({e}); its steps will be tried and reported",
                    tenant.slug
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The status of `module` on a tenant database, `None` when it could not be reached.
    async fn tenant_status(
        &self,
        module: &str,
        db: Option<&Database>,
    ) -> Result<Option<ScopeStatus>> {
        match db {
            Some(db) => Ok(Some(self.clean_status(module, Scope::Tenant, db).await?)),
            None => Ok(None),
        }
    }

    /// Refuses to touch a database where any applied migration (of any context) no longer
    /// matches its file, or lost it: nothing may be built on, or reverted from, SQL that no
    /// longer matches what ran. One read of the ledger per database.
    async fn verify_database(&self, db: &Database) -> Result<()> {
        let entries = crate::migrator::verify_database(self.migrators, db).await?;
        crate::sync::lock(&self.ledgers).insert(db.label().to_string(), Arc::new(entries));
        Ok(())
    }

    /// What the registry alone says `tenant` has applied (the tenant-scope version of each
    /// installed module), when that can stand for its ledger without opening its database:
    /// every installation of the tenant is recorded installed, with the version it applied
    /// and a digest of the files up to it that the files still give. A failed installation, a
    /// row from before versions were recorded, or a file changed since (drift) says `None`:
    /// the tenant is opened and read.
    fn recorded_state(
        &self,
        tenant: &TenantRecord,
        installs: &Installs,
    ) -> Option<BTreeMap<String, i64>> {
        let mut applied = BTreeMap::new();
        for (module, i) in installs.get(&tenant.slug).into_iter().flatten() {
            let Some(migrator) = self.migrators.get(module) else {
                // Not in the catalog any more: the ledger check skips it too.
                continue;
            };
            let (InstallState::Installed, Some(version), Some(digest)) =
                (i.state, i.applied_version, i.applied_digest.as_deref())
            else {
                return None;
            };
            let known = migrator.migrations(Scope::Tenant, tenant.placement.engine);
            if Applied::of(&known, version).digest != digest {
                return None;
            }
            applied.insert(module.clone(), version);
        }
        Some(applied)
    }

    /// The status of `module` in `scope` on `db`, refused when an applied migration drifted
    /// or vanished: nothing may be built on, or reverted from, SQL that no longer matches.
    async fn clean_status(&self, module: &str, scope: Scope, db: &Database) -> Result<ScopeStatus> {
        let migrator = self.migrator(module)?;
        let ledger = crate::sync::lock(&self.ledgers).get(db.label()).cloned();
        let from_ledger = ledger.and_then(|l| migrator.status_from(scope, db.engine(), &l));
        let status = match from_ledger {
            Some(status) => status,
            None => migrator.status(scope, db).await?,
        };
        status.refuse_unclean(db.label(), module, scope, None)?;
        Ok(status)
    }

    /// Plans installing `modules` (and what they require) for the selected tenants.
    pub async fn install(&self, modules: &[String], selection: &TenantSelection) -> Result<Plan> {
        self.check_modules(modules).await?;
        let tenants = self.resolve_tenants(selection).await?;
        if tenants.is_empty() {
            return Err(no_tenants());
        }
        let installs = self.installs().await?;
        let graph = &self.catalog.graph;
        let closure = graph.closure(modules.iter().map(String::as_str));
        let mut plan = self.empty_plan(Action::Install, modules, &tenants);
        let mut needed: BTreeSet<String> = BTreeSet::new();
        // A tenant whose registry rows can stand for its ledger is not opened: a fleet install
        // reads one registry query and asks each server which databases exist, rather than
        // opening a thousand of them. Its job checks the ledger under the lock before the
        // first step. A missing database (or one that cannot be asked about) is opened as any
        // other, which refuses it or plans it blind.
        let mut recorded: Vec<Option<BTreeMap<String, i64>>> = tenants
            .iter()
            .map(|t| self.recorded_state(t, &installs))
            .collect();
        let mut addresses: Vec<(usize, crate::database::Address)> = Vec::new();
        for (i, r) in recorded.iter_mut().enumerate() {
            if r.is_none() {
                continue;
            }
            match tenants[i].placement.address(self.config) {
                Ok(a) => addresses.push((i, a)),
                // Opening it says what is wrong.
                Err(_) => *r = None,
            }
        }
        let refs: Vec<&crate::database::Address> = addresses.iter().map(|(_, a)| a).collect();
        let found = Database::existing(&refs).await;
        for ((i, _), exists) in addresses.iter().zip(found) {
            if exists != Some(true) {
                recorded[*i] = None;
            }
        }
        for (tenant, recorded) in tenants.iter().zip(recorded) {
            let db = match recorded {
                Some(_) => None,
                None => self.open_for_plan(tenant, &mut plan).await?,
            };
            let mut steps = Vec::new();
            for m in &closure {
                let pending = match &recorded {
                    Some(applied) => {
                        let from = applied.get(m).copied().unwrap_or(0);
                        let known = self
                            .migrator(m)?
                            .migrations(Scope::Tenant, tenant.placement.engine);
                        Some(known.into_iter().filter(|i| i.version > from).collect())
                    }
                    None => self.tenant_status(m, db.as_ref()).await?.map(|s| s.pending),
                };
                let state = installs
                    .get(&tenant.slug)
                    .and_then(|i| i.get(m))
                    .map(|i| i.state);
                if state == Some(InstallState::Installed)
                    && pending.as_ref().is_none_or(Vec::is_empty)
                {
                    if modules.contains(m) {
                        plan.notes.push(format!("{} already has {m}", tenant.slug));
                    }
                    continue;
                }
                let action = if state == Some(InstallState::Installed) {
                    Action::Upgrade
                } else {
                    Action::Install
                };
                steps.push(Step {
                    module: m.clone(),
                    scope: Scope::Tenant,
                    tenant: Some(tenant.slug.clone()),
                    action,
                    unknown: pending.is_none(),
                    migrations: pending.unwrap_or_default(),
                    reason: (!modules.contains(m)).then(|| "required".to_string()),
                    after: Vec::new(),
                });
            }
            if let Some(db) = db {
                db.close().await;
            }
            set_after_up(graph, &mut steps);
            needed.extend(steps.iter().map(|s| s.module.clone()));
            if recorded.is_some() && !steps.is_empty() {
                plan.unverified.insert(tenant.slug.clone());
            }
            plan.tenant_steps.insert(tenant.slug.clone(), steps);
        }
        self.landlord_up(&mut plan, &closure, &needed, Action::Install)
            .await?;
        // Say which dependencies the plan adds, and only those it really installs somewhere.
        let wants: Vec<(&str, BTreeSet<String>)> = modules
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    graph.closure([r.as_str()]).into_iter().collect(),
                )
            })
            .collect();
        let added: Vec<String> = closure
            .iter()
            .filter(|m| !modules.contains(*m) && needed.contains(*m))
            .map(|m| {
                let by: Vec<&str> = wants
                    .iter()
                    .filter(|(_, c)| c.contains(m))
                    .map(|(r, _)| *r)
                    .collect();
                format!("{m} added: required by {}", by.join(", "))
            })
            .collect();
        plan.notes.splice(0..0, added);
        Ok(plan)
    }

    /// Landlord steps (once, before the tenants) for the `needed` modules that have pending
    /// landlord migrations, in `order`.
    async fn landlord_up(
        &self,
        plan: &mut Plan,
        order: &[String],
        needed: &BTreeSet<String>,
        action: Action,
    ) -> Result<()> {
        let landlord = self.registry.landlord();
        for m in order.iter().filter(|m| needed.contains(*m)) {
            let status = self.clean_status(m, Scope::Landlord, landlord).await?;
            if status.pending.is_empty() {
                continue;
            }
            plan.landlord.push(Step {
                unknown: false,
                module: m.clone(),
                scope: Scope::Landlord,
                tenant: None,
                action,
                migrations: status.pending,
                reason: None,
                after: Vec::new(),
            });
        }
        set_after_up(&self.catalog.graph, &mut plan.landlord);
        Ok(())
    }

    /// Plans rolling `modules` back for the selected tenants. Installed dependants block it,
    /// unless `cascade` adds them (rolled back first).
    pub async fn rollback(
        &self,
        modules: &[String],
        selection: &TenantSelection,
        cascade: bool,
    ) -> Result<Plan> {
        self.check_modules(modules).await?;
        let tenants = self.resolve_tenants(selection).await?;
        if tenants.is_empty() {
            return Err(no_tenants());
        }
        let installs = self.installs().await?;
        let graph = &self.catalog.graph;
        let mut plan = self.empty_plan(Action::Rollback, modules, &tenants);
        let mut blocked = Vec::new();
        let mut per_tenant: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for tenant in &tenants {
            let installed: BTreeSet<String> = installs
                .get(&tenant.slug)
                .map(|i| i.keys().cloned().collect())
                .unwrap_or_default();
            let mut targets = BTreeSet::new();
            for m in modules {
                if installed.contains(m) {
                    targets.insert(m.clone());
                } else {
                    plan.notes
                        .push(format!("{} does not have {m}", tenant.slug));
                }
            }
            for m in targets.clone() {
                for d in graph.dependants(&m) {
                    if !installed.contains(&d) || modules.contains(&d) {
                        continue;
                    }
                    if cascade {
                        if targets.insert(d.clone()) {
                            plan.notes.push(format!(
                                "{d} added for {}: it requires {m} (--cascade)",
                                tenant.slug
                            ));
                        }
                    } else {
                        blocked.push(format!(
                            "{d} requires {m} and is installed for {}",
                            tenant.slug
                        ));
                    }
                }
            }
            per_tenant.insert(tenant.slug.clone(), targets);
        }
        if !blocked.is_empty() {
            return Err(Error::refused(
                format!(
                    "cannot roll back {}: {}",
                    modules.join(", "),
                    blocked.join("; ")
                ),
                "roll back the dependants first, or add --cascade to roll them back too",
            ));
        }
        for tenant in &tenants {
            let targets = &per_tenant[&tenant.slug];
            if targets.is_empty() {
                plan.tenant_steps.insert(tenant.slug.clone(), Vec::new());
                continue;
            }
            let db = self.open_for_plan(tenant, &mut plan).await?;
            let mut steps = Vec::new();
            for m in graph.order(targets).into_iter().rev() {
                let status = self.tenant_status(&m, db.as_ref()).await?;
                let unknown = status.is_none();
                let status = status.unwrap_or_default();
                let engine = tenant.placement.engine;
                steps.push(Step {
                    unknown,
                    after: graph
                        .dependants(&m)
                        .intersection(targets)
                        .cloned()
                        .collect(),
                    reason: (!modules.contains(&m))
                        .then(|| "requires a module rolled back (--cascade)".to_string()),
                    migrations: reverted(
                        &status,
                        self.migrator(&m)?.migrations(Scope::Tenant, engine),
                    ),
                    module: m,
                    scope: Scope::Tenant,
                    tenant: Some(tenant.slug.clone()),
                    action: Action::Rollback,
                });
            }
            if let Some(db) = db {
                db.close().await;
            }
            plan.tenant_steps.insert(tenant.slug.clone(), steps);
        }
        // The landlord scope of a module goes only when no tenant keeps the module.
        let all_targets: BTreeSet<String> = per_tenant.values().flatten().cloned().collect();
        let landlord = self.registry.landlord();
        for m in graph.order(&all_targets).into_iter().rev() {
            let keepers: Vec<&String> = installs
                .iter()
                .filter(|(t, i)| {
                    i.contains_key(&m) && !per_tenant.get(*t).is_some_and(|s| s.contains(&m))
                })
                .map(|(t, _)| t)
                .collect();
            if !keepers.is_empty() {
                continue;
            }
            let status = self.clean_status(&m, Scope::Landlord, landlord).await?;
            if status.applied.is_empty() {
                continue;
            }
            plan.landlord.push(Step {
                unknown: false,
                after: graph
                    .dependants(&m)
                    .intersection(&all_targets)
                    .cloned()
                    .collect(),
                reason: Some("no tenant keeps it".to_string()),
                migrations: reverted(
                    &status,
                    self.migrator(&m)?
                        .migrations(Scope::Landlord, landlord.engine()),
                ),
                module: m,
                scope: Scope::Landlord,
                tenant: None,
                action: Action::Rollback,
            });
        }
        Ok(plan)
    }

    /// Plans bringing installed modules up to date: pending migrations, and retrying modules
    /// whose last action failed. `modules` empty means every module.
    pub async fn migrate(
        &self,
        modules: &[String],
        selection: &TenantSelection,
        scopes: &[Scope],
    ) -> Result<Plan> {
        self.check_modules(modules).await?;
        let tenants = self.resolve_tenants(selection).await?;
        let installs = self.installs().await?;
        let graph = &self.catalog.graph;
        let wanted = |m: &String| modules.is_empty() || modules.contains(m);
        let mut plan = self.empty_plan(Action::Upgrade, modules, &tenants);
        let mut in_use: BTreeSet<String> = BTreeSet::new();
        // What a tenant has applied when it is up to date with the files, per module and
        // engine: a tenant whose recorded version and digest say so has nothing pending and
        // no drift, and is not opened at all.
        let mut current: BTreeMap<(String, Engine), Applied> = BTreeMap::new();
        for m in self.migrators.keys() {
            for e in Engine::ALL {
                let known = self.migrator(m)?.migrations(Scope::Tenant, e);
                let newest = known.last().map_or(0, |i| i.version);
                current.insert((m.clone(), e), Applied::of(&known, newest));
            }
        }
        let mut work = Vec::new();
        for tenant in &tenants {
            let installed: BTreeSet<String> = installs
                .get(&tenant.slug)
                .map(|i| {
                    i.keys()
                        .filter(|m| wanted(m) && self.catalog.get(m).is_some())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            in_use.extend(installed.iter().cloned());
            if !scopes.contains(&Scope::Tenant) || installed.is_empty() {
                continue;
            }
            let mine = &installs[&tenant.slug];
            let up_to_date = installed.iter().all(|m| {
                let i = &mine[m];
                let now = &current[&(m.clone(), tenant.placement.engine)];
                i.state == InstallState::Installed
                    && i.applied_version == Some(now.version)
                    && i.applied_digest.as_deref() == Some(now.digest.as_str())
            });
            if !up_to_date {
                work.push((tenant, installed));
            }
        }
        // Tenants are planned side by side, as they run.
        let planned: Vec<Result<TenantPlan>> = futures::stream::iter(work)
            .map(|(tenant, installed)| self.plan_upgrade(tenant, installed, &installs))
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        for p in planned {
            let (slug, steps, note) = p?;
            plan.notes.extend(note);
            if !steps.is_empty() {
                plan.tenant_steps.insert(slug, steps);
            }
        }
        for m in modules {
            if !in_use.contains(m) {
                plan.notes.push(format!(
                    "{m} is not installed for any selected tenant: use `estate install {m}`"
                ));
            }
        }
        if scopes.contains(&Scope::Landlord) {
            let order = graph.order(&in_use);
            self.landlord_up(&mut plan, &order, &in_use, Action::Upgrade)
                .await?;
        }
        Ok(plan)
    }

    /// One tenant's upgrade steps: its installed modules with pending migrations, or whose
    /// last action failed. Returns the note of an unreachable tenant too.
    async fn plan_upgrade(
        &self,
        tenant: &TenantRecord,
        installed: BTreeSet<String>,
        installs: &Installs,
    ) -> Result<TenantPlan> {
        let mut notes = self.empty_plan(Action::Upgrade, &[], &[]);
        let db = self.open_for_plan(tenant, &mut notes).await?;
        let mut steps = Vec::new();
        for m in self.catalog.graph.order(&installed) {
            let status = self.tenant_status(&m, db.as_ref()).await?;
            let failed = installs[&tenant.slug][&m].state == InstallState::Failed;
            // Unreachable: pending unknown, so the step is tried and finds out.
            if status.as_ref().is_some_and(|s| s.pending.is_empty()) && !failed {
                continue;
            }
            steps.push(Step {
                reason: failed.then(|| "its last action failed".to_string()),
                module: m,
                scope: Scope::Tenant,
                tenant: Some(tenant.slug.clone()),
                action: Action::Upgrade,
                unknown: status.is_none(),
                migrations: status.map(|s| s.pending).unwrap_or_default(),
                after: Vec::new(),
            });
        }
        if let Some(db) = db {
            db.close().await;
        }
        set_after_up(&self.catalog.graph, &mut steps);
        Ok((tenant.slug.clone(), steps, notes.notes.pop()))
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
fn set_after_up(graph: &crate::catalog::DependencyGraph, steps: &mut [Step]) {
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
    graph: &crate::catalog::DependencyGraph,
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

/// The applied migrations a rollback reverts, newest first, described by the migrator.
fn reverted(status: &ScopeStatus, known: Vec<MigrationInfo>) -> Vec<MigrationInfo> {
    let applied: BTreeSet<i64> = status.applied.iter().map(|e| e.version).collect();
    let mut out: Vec<MigrationInfo> = known
        .into_iter()
        .filter(|m| applied.contains(&m.version))
        .collect();
    out.reverse();
    out
}

fn no_tenants() -> Error {
    Error::refused(
        "there are no tenants yet",
        "add one with `estate tenants add SLUG`",
    )
}
