//! The dependency graph checked at run time, on the tenant's database under its lock, just
//! before a step writes: a plan is read earlier, and another job (another process, another
//! operator) may have changed the tenant since.
//!
//! An install applies only where every requirement is installed now (its tenant ledger has
//! it, or an earlier step of this job put it there); an upgrade only where its module is still
//! installed; a rollback only where no dependant is installed now. A step that fails the check
//! does not run and is skipped with the reason, naming the job that changed the tenant when
//! the history has it. Only modules with a tenant scope are judged here: a module's landlord
//! scope has its own rule, under the landlord's lock (`jobs/landlord.rs`).

use crate::catalog::Scope;
use crate::database::Database;
use crate::error::Result;
use crate::migrator::{Ledger, LedgerEntry};
use crate::plan::{Action, Step};
use crate::registry::HistoryFilter;

use super::runner::JobRunner;

impl JobRunner<'_> {
    /// The modules a step's check reads: requirements going up, dependants going down, the
    /// module itself for an upgrade; only those with a tenant scope. Empty: nothing to check,
    /// and the step costs no read.
    fn guarded_by(&self, step: &Step) -> Vec<String> {
        if step.scope != Scope::Tenant {
            return Vec::new();
        }
        let graph = &self.catalog.graph;
        let modules: Vec<String> = match step.action {
            Action::Install | Action::Adopt => graph.requires(&step.module).to_vec(),
            Action::Upgrade => vec![step.module.clone()],
            Action::Rollback => graph.dependants(&step.module).into_iter().collect(),
        };
        modules
            .into_iter()
            .filter(|m| {
                self.migrators
                    .get(m)
                    .is_some_and(|mig| mig.has_scope(Scope::Tenant))
            })
            .collect()
    }

    /// Whether any of `steps` needs the check, so the tenant's lock must span its steps.
    pub(super) fn any_guarded(&self, steps: &[Step]) -> bool {
        steps.iter().any(|s| !self.guarded_by(s).is_empty())
    }

    /// Why `step` must not run on `db` now, or `None` when the graph allows it. Called under
    /// the tenant's lock, which is held across the tenant's steps whenever one is guarded.
    pub(super) async fn graph_forbids(
        &self,
        step: &Step,
        db: &Database,
        tenant: &str,
    ) -> Option<String> {
        let modules = self.guarded_by(step);
        if modules.is_empty() {
            return None;
        }
        let ledger = match Ledger::all(db).await {
            Ok(ledger) => ledger,
            Err(e) => return Some(format!("the ledger of {tenant} could not be read: {e}")),
        };
        for m in &modules {
            let present = match self.present(m, db, &ledger).await {
                Ok(present) => present,
                Err(e) => return Some(format!("{m} could not be read on {tenant}: {e}")),
            };
            let reason = match (step.action, present) {
                (Action::Install | Action::Adopt, false) => format!(
                    "requirement {m} is not installed for {tenant} now{}",
                    self.changed_by(tenant, m).await
                ),
                (Action::Upgrade, false) => format!(
                    "{m} is no longer installed for {tenant}{}",
                    self.changed_by(tenant, m).await
                ),
                (Action::Rollback, true) => format!(
                    "{m} requires {} and is installed for {tenant} now{}",
                    step.module,
                    self.changed_by(tenant, m).await
                ),
                _ => continue,
            };
            tracing::warn!(step = %super::StepRef::of(step), %reason, "step refused by the dependency graph");
            return Some(reason);
        }
        None
    }

    /// Whether `module`'s tenant scope has anything applied on `db`: from the ledger already
    /// read when its migrator keeps its state there, else from the migrator.
    async fn present(&self, module: &str, db: &Database, ledger: &[LedgerEntry]) -> Result<bool> {
        let Some(migrator) = self.migrators.get(module) else {
            return Ok(false);
        };
        let status = match migrator.status_from(Scope::Tenant, db.engine(), ledger) {
            Some(status) => status,
            None => migrator.status(Scope::Tenant, db).await?,
        };
        Ok(!status.applied.is_empty())
    }

    /// ` (job J: rollback by alice)`: the newest recorded change of `module` on `tenant`, to
    /// name who changed the tenant under this job; empty when the history does not have it
    /// yet (the other job's recorder writes in batches).
    async fn changed_by(&self, tenant: &str, module: &str) -> String {
        let filter = HistoryFilter {
            module: Some(module.to_string()),
            tenant: Some(tenant.to_string()),
            limit: Some(1),
            ..HistoryFilter::default()
        };
        match self.registry.history(&filter).await {
            Ok(rows) => rows
                .last()
                .map(|h| format!(" (job {}: {} by {})", h.job_id, h.action, h.operator))
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}
