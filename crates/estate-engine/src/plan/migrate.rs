//! Planning a migrate: bringing installed modules up to date (new migrations), and retrying
//! those whose last action failed: a module recorded failed with nothing of it applied (an
//! install blocked by its requirement's failure) is installed.
//!
//! A tenant whose registry rows say it applied everything the files hold, unchanged, has
//! nothing pending and is not opened: a fleet where few tenants lag costs a few opens.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;

use super::{Action, Installs, Plan, Planner, Step, TenantPlan, TenantSelection, set_after_up};
use crate::catalog::Scope;
use crate::error::Result;
use crate::migrator::Applied;
use crate::registry::{InstallState, TenantRecord};
use crate::sql::Engine;

impl Planner<'_> {
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
            let mine = installs.of(&tenant.slug);
            let up_to_date = installed.iter().all(|m| {
                let i = &mine[m];
                let now = &current[&(m.clone(), tenant.placement.engine)];
                // A program's state is known only by asking it, on the tenant.
                let asks = self.migrators.get(m).is_some_and(|m| m.keeps_own_ledger());
                !asks
                    && i.state == InstallState::Installed
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
                plan.set_tenant_steps(slug, steps);
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
            let failed = installs.of(&tenant.slug)[&m].state == InstallState::Failed;
            // Unreachable: pending unknown, so the step is tried and finds out.
            if status.as_ref().is_some_and(|s| s.pending.is_empty()) && !failed {
                continue;
            }
            // Failed with nothing of it applied there: an install that never happened (its
            // requirement failed, or it failed before anything committed) is finished now.
            let never_applied = failed && status.as_ref().is_some_and(|s| s.applied.is_empty());
            steps.push(Step {
                to: None,
                reason: failed.then(|| {
                    if never_applied {
                        "its install did not happen: finished now".to_string()
                    } else {
                        "its last action failed".to_string()
                    }
                }),
                module: m,
                scope: Scope::Tenant,
                tenant: Some(tenant.slug.clone()),
                action: if never_applied {
                    Action::Install
                } else {
                    Action::Upgrade
                },
                unknown: status.is_none(),
                drops: None,
                migrations: status.map(|s| s.pending).unwrap_or_default().into(),
                after: Vec::new(),
            });
        }
        if let Some(db) = db {
            db.close().await;
        }
        set_after_up(&self.catalog.graph, &mut steps);
        Ok((tenant.slug.clone(), steps, notes.notes.pop()))
    }
}
