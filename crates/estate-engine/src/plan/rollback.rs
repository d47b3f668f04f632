//! Planning a rollback: dependants first (refused unless `--cascade` adds them, or they are
//! in the same request), tenant scopes before the landlord scope, and a module's landlord
//! scope reverted only when no tenant keeps the module.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, Plan, Planner, Step, TenantSelection, no_tenants};
use crate::catalog::{Scope, dropped_by_reverting};
use crate::error::{Error, Result};
use crate::migrator::{MigrationInfo, ScopeStatus};
use crate::sql::Engine;

impl Planner<'_> {
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
        let mut drops = DropsRead::default();
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
                plan.set_tenant_steps(tenant.slug.clone(), Vec::new());
                continue;
            }
            let db = self.open_for_plan(tenant, &mut plan).await?;
            let mut steps = Vec::new();
            for m in graph.order(targets).into_iter().rev() {
                let status = self.tenant_status(&m, db.as_ref()).await?;
                let unknown = status.is_none();
                let status = status.unwrap_or_default();
                let engine = tenant.placement.engine;
                let known = self.migrator(&m)?.migrations(Scope::Tenant, engine);
                let migrations = reverted(&status, known.clone());
                steps.push(Step {
                    to: None,
                    drops: (!unknown)
                        .then(|| drops.of(&m, Scope::Tenant, engine, &known, &migrations))
                        .flatten(),
                    unknown,
                    after: graph
                        .dependants(&m)
                        .intersection(targets)
                        .cloned()
                        .collect(),
                    reason: (!modules.contains(&m))
                        .then(|| "requires a module rolled back (--cascade)".to_string()),
                    migrations: migrations.into(),
                    module: m,
                    scope: Scope::Tenant,
                    tenant: Some(tenant.slug.clone()),
                    action: Action::Rollback,
                });
            }
            if let Some(db) = db {
                db.close().await;
            }
            plan.set_tenant_steps(tenant.slug.clone(), steps);
        }
        // The landlord scope of a module goes only when no tenant keeps the module. Over every
        // tenant, a module asked for whose landlord scope outlived its last tenant (a rollback
        // killed or timed out before its landlord phase) is a candidate too.
        let all_targets: BTreeSet<String> = per_tenant.values().flatten().cloned().collect();
        let mut candidates = all_targets.clone();
        if *selection == TenantSelection::All {
            candidates.extend(modules.iter().cloned());
        }
        let landlord = self.registry.landlord();
        for m in graph.order(&candidates).into_iter().rev() {
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
            let engine = landlord.engine();
            let known = self.migrator(&m)?.migrations(Scope::Landlord, engine);
            let migrations = reverted(&status, known.clone());
            plan.landlord.push(Step {
                to: None,
                drops: drops.of(&m, Scope::Landlord, engine, &known, &migrations),
                unknown: false,
                after: graph
                    .dependants(&m)
                    .intersection(&all_targets)
                    .cloned()
                    .collect(),
                reason: Some("no tenant keeps it".to_string()),
                migrations: migrations.into(),
                module: m,
                scope: Scope::Landlord,
                tenant: None,
                action: Action::Rollback,
            });
        }
        Ok(plan)
    }
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

/// The tables each step drops, read once per module, scope, engine and set of versions: a
/// fleet's tenants mostly revert the same migrations.
#[derive(Default)]
pub(super) struct DropsRead {
    read: BTreeMap<DropsKey, Option<Vec<String>>>,
}

/// Module, scope, engine, the versions reverted.
type DropsKey = (String, Scope, Engine, Vec<i64>);

impl DropsRead {
    /// What reverting `reverted` (of the `known` migrations) drops; `None` when a migration
    /// up to the newest reverted runs Rust code rather than SQL, so its tables are not known.
    pub(super) fn of(
        &mut self,
        module: &str,
        scope: Scope,
        engine: Engine,
        known: &[MigrationInfo],
        reverted: &[MigrationInfo],
    ) -> Option<Vec<String>> {
        let versions: BTreeSet<i64> = reverted.iter().map(|m| m.version).collect();
        let key = (
            module.to_string(),
            scope,
            engine,
            versions.iter().copied().collect(),
        );
        self.read
            .entry(key)
            .or_insert_with(|| {
                let newest = versions.last().copied().unwrap_or(i64::MIN);
                let scripts = known
                    .iter()
                    .filter(|m| m.version <= newest)
                    .map(|m| Some((m.version, m.source.as_str(), m.up_sql.as_deref()?)))
                    .collect::<Option<Vec<_>>>()?;
                Some(dropped_by_reverting(&scripts, &versions, engine))
            })
            .clone()
    }
}
