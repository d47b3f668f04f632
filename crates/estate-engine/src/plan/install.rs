//! Planning an install: the requires closure, dependencies first, the landlord scope once
//! before the tenant scopes.
//!
//! Modules already installed (and up to date) for a tenant are left out with a note; one
//! installed with migrations pending is upgraded; the dependencies the plan adds are named.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Action, Plan, Planner, Step, TenantSelection, no_tenants, set_after_up};
use crate::catalog::Scope;
use crate::error::Result;
use crate::migrator::MigrationInfo;
use crate::registry::InstallState;

impl Planner<'_> {
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
        // A program's migrations are known by asking it on each tenant, never from the
        // registry.
        let asks = closure
            .iter()
            .any(|m| self.migrators.get(m).is_some_and(|m| m.keeps_own_ledger()));
        let recorded = if asks {
            tenants.iter().map(|_| None).collect()
        } else {
            self.recorded_states(&tenants, &installs).await
        };
        for (tenant, recorded) in tenants.iter().zip(recorded) {
            let db = match recorded {
                Some(_) => None,
                None => self.open_for_plan(tenant, &mut plan).await?,
            };
            let mut steps = Vec::new();
            for m in &closure {
                let pending: Option<Arc<[MigrationInfo]>> = match &recorded {
                    Some(applied) => {
                        let from = applied.version_of(m);
                        Some(self.tenant_migrations_after(m, tenant.placement.engine, from)?)
                    }
                    None => self
                        .tenant_status(m, db.as_ref())
                        .await?
                        .map(|s| s.pending.into()),
                };
                let state = installs
                    .get(&tenant.slug)
                    .and_then(|i| i.get(m))
                    .map(|i| i.state);
                if state == Some(InstallState::Installed)
                    && pending.as_ref().is_none_or(|p| p.is_empty())
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
                    to: None,
                    module: m.clone(),
                    scope: Scope::Tenant,
                    tenant: Some(tenant.slug.clone()),
                    action,
                    unknown: pending.is_none(),
                    drops: None,
                    migrations: pending.unwrap_or_else(|| Arc::new([])),
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
            plan.set_tenant_steps(tenant.slug.clone(), steps);
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
    pub(super) async fn landlord_up(
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
                to: None,
                unknown: false,
                drops: None,
                module: m.clone(),
                scope: Scope::Landlord,
                tenant: None,
                action,
                migrations: status.pending.into(),
                reason: None,
                after: Vec::new(),
            });
        }
        set_after_up(&self.catalog.graph, &mut plan.landlord);
        Ok(())
    }
}
