//! Planning an adoption (`estate adopt`): for each database, which migrations of the module
//! it already shows (another tool's ledger, else every one up to `--to`) and whether its
//! schema holds what they create. The decision is in the plan's notes, tenant by tenant, so a
//! dry run shows it; the job checks again under each database's lock before recording.

use std::collections::BTreeSet;

use super::{Action, Plan, Planner, Step, TenantSelection, no_tenants, set_after_up};
use crate::catalog::Scope;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrator::adopt::{Decision, decide_module};
use crate::registry::InstallState;

impl Planner<'_> {
    /// Plans adopting `modules` (dependencies first) for the selected tenants, up to `to`.
    pub async fn adopt(
        &self,
        modules: &[String],
        selection: &TenantSelection,
        to: Option<i64>,
    ) -> Result<Plan> {
        self.check_modules(modules).await?;
        for m in modules {
            let migrator = self.migrator(m)?;
            if migrator.keeps_own_ledger() || migrator.elsewhere().is_some() {
                return Err(Error::refused(
                    format!(
                        "{m}'s migrator keeps its own ledger: there is nothing for estate to adopt"
                    ),
                    format!(
                        "install it (`estate install {m} …`): its migrator finds what is applied there and runs only the rest"
                    ),
                ));
            }
        }
        if let Some(to) = to {
            self.check_target(modules, to)?;
        }
        let tenants = self.resolve_tenants(selection).await?;
        if tenants.is_empty() {
            return Err(no_tenants());
        }
        let installs = self.installs().await?;
        let graph = &self.catalog.graph;
        let order = graph.order(&modules.iter().cloned().collect::<BTreeSet<_>>());
        let mut plan = self.empty_plan(Action::Adopt, modules, &tenants);
        let landlord = self.registry.landlord();
        for m in &order {
            if let Some(d) = self.decision(m, Scope::Landlord, landlord, to).await?
                && !d.adopt.is_empty()
            {
                plan.notes.push(note("the landlord", m, &d));
                plan.landlord.push(step(m, Scope::Landlord, None, d));
            }
        }
        for tenant in &tenants {
            let db = self.open_for_plan(tenant, &mut plan).await?;
            let mut steps = Vec::new();
            for m in &order {
                let state = installs
                    .get(&tenant.slug)
                    .and_then(|i| i.get(m))
                    .map(|i| i.state);
                if state == Some(InstallState::Installed) {
                    plan.notes.push(format!("{} already has {m}", tenant.slug));
                    continue;
                }
                let Some(db) = &db else {
                    // Unreachable while planning: the job tries, and checks, on its own.
                    let known = self
                        .migrator(m)?
                        .migrations(Scope::Tenant, tenant.placement.engine);
                    let mut s = step(m, Scope::Tenant, Some(&tenant.slug), Decision::default());
                    s.migrations = known
                        .into_iter()
                        .filter(|i| to.is_none_or(|to| i.version <= to))
                        .collect();
                    s.unknown = true;
                    steps.push(s);
                    continue;
                };
                let Some(d) = self.decision(m, Scope::Tenant, db, to).await? else {
                    continue;
                };
                plan.notes.push(note(&tenant.slug, m, &d));
                steps.push(step(m, Scope::Tenant, Some(&tenant.slug), d));
            }
            if let Some(db) = db {
                db.close().await;
            }
            set_after_up(graph, &mut steps);
            plan.set_tenant_steps(tenant.slug.clone(), steps);
        }
        Ok(plan)
    }

    /// What adopting `module`'s `scope` on `db` would do; `None` when it has no such scope.
    async fn decision(
        &self,
        module: &str,
        scope: Scope,
        db: &Database,
        to: Option<i64>,
    ) -> Result<Option<Decision>> {
        let known = self.migrator(module)?.migrations(scope, db.engine());
        if known.is_empty() {
            return Ok(None);
        }
        let set = self.catalog.contexts.get(module).and_then(|c| c.set(scope));
        decide_module(db, set, &known, module, scope, to)
            .await
            .map(Some)
    }

    /// `--to` names one module's migration.
    fn check_target(&self, modules: &[String], to: i64) -> Result<()> {
        let [module] = modules else {
            return Err(Error::refused(
                "--to names a version of one module, and several were given",
                "adopt one module at a time with --to, or leave --to out",
            ));
        };
        let versions: BTreeSet<i64> = self
            .catalog
            .contexts
            .get(module)
            .map(|c| {
                c.sets
                    .values()
                    .flat_map(|s| s.migrations.iter().map(|m| m.version))
                    .collect()
            })
            .unwrap_or_default();
        if versions.contains(&to) {
            return Ok(());
        }
        let list: Vec<String> = versions.iter().map(i64::to_string).collect();
        Err(Error::refused(
            format!("{module} has no migration {to}"),
            format!("give one of its versions to --to: {}", list.join(", ")),
        ))
    }
}

fn step(module: &str, scope: Scope, tenant: Option<&str>, d: Decision) -> Step {
    Step {
        to: None,
        module: module.to_string(),
        scope,
        tenant: tenant.map(str::to_string),
        action: Action::Adopt,
        migrations: d.adopt.into(),
        reason: None,
        after: Vec::new(),
        unknown: false,
        drops: None,
    }
}

/// The decision on one database, as the plan says it.
fn note(database: &str, module: &str, d: &Decision) -> String {
    if !d.differences.is_empty() {
        return format!("{database}: {module} refused: {}", d.differences.join("; "));
    }
    format!(
        "{database}: {module} matches {}: {} migration(s) to record",
        d.source,
        d.adopt.len()
    )
}
