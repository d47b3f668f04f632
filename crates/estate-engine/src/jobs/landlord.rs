//! A job's landlord phase, and the rule that keeps a module's landlord scope true whatever
//! runs beside the job: it is reverted exactly when no tenant keeps the module, decided under
//! the landlord's lock when the rollback reaches it, not when it was planned.
//!
//! Going up, a job's row lists the modules it may install (written when it starts); after its
//! landlord steps, still under the lock, each module it puts on tenants must have its landlord
//! scope applied, else those tenant steps are skipped (a rollback reverted it since the plan).
//! Going down, after its tenants, a rollback records the tenants it released, then under the
//! lock: a tenant the registry still has the module for keeps it; a running job that may
//! install it is waited for (up to the lock wait); otherwise the scope is reverted, planned or
//! not. The running jobs are read before the tenants (`Registry::kept_by`): a job records its
//! installs before it ends, so one that ends between the two reads is seen in the second.
//! Whichever of two racing jobs decides second sees what the first did, so concurrent
//! rollbacks, lock timeouts and kills leave nothing behind that `rollback MODULE --all` cannot
//! finish.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::events::{Outcome, StepOutcome};
use super::runner::{Events, JobControl, JobRunner};
use super::tenant::{CANCELLED, not_started, skipped};
use crate::catalog::Scope;
use crate::database::DatabaseLock;
use crate::error::Result;
use crate::migrator::MigrationInfo;
use crate::plan::{Action, Plan, Step};
use crate::registry::{KeptBy, RegistryWrite};

/// What the landlord phase going up leaves the tenant steps: modules whose landlord step did
/// not succeed (their tenant steps are blocked), and modules whose landlord scope another job
/// reverted since the plan, with why (their tenant steps are skipped).
#[derive(Debug, Default)]
pub(super) struct LandlordUp {
    pub failed: BTreeSet<String>,
    pub gone: BTreeMap<String, String>,
}

/// How often a rollback looks again for the jobs that may install the module it would revert.
const INSTALLING_POLL: Duration = Duration::from_millis(200);

/// Who keeps a module's landlord scope, as the registry says under the landlord's lock.
enum Keeper {
    /// A tenant has the module (installed, or failed: an install `estate migrate` finishes).
    Tenant(String),
    /// A running job may still install it.
    Job(String),
    /// Nobody: what is applied there, newest first (`None`: nothing).
    Nobody(Option<Vec<MigrationInfo>>),
}

/// What the landlord's lock allows for one module's landlord scope going down.
enum Release {
    /// Nobody keeps it and it is applied: revert these (newest first), under this lock.
    Revert(DatabaseLock, Vec<MigrationInfo>),
    /// Nothing is applied any more (another job reverted it).
    Gone,
    /// It stays, and why.
    Kept { reason: String, expected: bool },
}

impl JobRunner<'_> {
    /// Going up: the plan's landlord steps in order, under the landlord's lock, each skipped
    /// when a module it waits for did not succeed (`failed`); then the landlord scope of each
    /// module the job puts on tenants is checked under the same lock (`gone`: why its tenant
    /// steps must not run).
    pub(super) async fn landlord_up(
        &self,
        plan: &Plan,
        state: &mut LandlordUp,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        let LandlordUp { failed, gone } = state;
        let put_on_tenants: BTreeSet<&String> = plan
            .tenant_steps
            .values()
            .flatten()
            .map(|s| &s.module)
            .filter(|m| self.has_landlord_scope(m))
            .collect();
        if plan.landlord.is_empty() && put_on_tenants.is_empty() {
            return Vec::new();
        }
        let db = self.registry.landlord();
        let lock = db.lock(self.config.lock_wait).await;
        let mut outcomes = Vec::new();
        for step in &plan.landlord {
            if lock.is_ok() && control.is_cancelled() {
                outcomes.push(not_started(step, CANCELLED));
                continue;
            }
            let skip = if let Err(e) = &lock {
                Some(e.to_string())
            } else if let Some(m) = step.after.iter().find(|m| failed.contains(*m)) {
                Some(format!("{m} did not succeed on the landlord"))
            } else if step.action == Action::Upgrade && !self.landlord_applied(&step.module).await {
                let reason = format!(
                    "{}'s landlord scope was rolled back by another job since this one was planned: nothing to upgrade",
                    step.module
                );
                gone.insert(step.module.clone(), reason.clone());
                Some(reason)
            } else {
                None
            };
            let outcome = match skip {
                Some(reason) => skipped(step, reason, tx),
                None => self.step(step, db, tx, control).await,
            };
            if outcome.outcome != Outcome::Succeeded {
                failed.insert(step.module.clone());
            }
            outcomes.push(outcome);
        }
        for m in put_on_tenants {
            if failed.contains(m) || gone.contains_key(m) {
                continue;
            }
            let reason = match &lock {
                Err(e) => Some(format!(
                    "{m}'s landlord scope could not be checked (the landlord's lock: {e}); run the job again"
                )),
                Ok(_) if !self.landlord_applied(m).await => Some(format!(
                    "{m}'s landlord scope was rolled back by another job since this one was planned; plan it again"
                )),
                Ok(_) => None,
            };
            if let Some(reason) = reason {
                tracing::warn!(module = %m, %reason, "tenant steps skipped");
                gone.insert(m.clone(), reason);
            }
        }
        outcomes
    }

    /// Going down, after the tenants: each module this job rolled back somewhere, or whose
    /// landlord step it planned, dependants first, has its landlord scope reverted if nobody
    /// keeps it now (see [`Release`]). `tenants` are the tenant steps' outcomes.
    pub(super) async fn landlord_down(
        &self,
        plan: &Plan,
        job_id: &str,
        tenants: &[StepOutcome],
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        // A step that went down to a version (`--to`) leaves its module installed there: it
        // lets nothing go.
        let partial = |o: &StepOutcome| {
            o.step.tenant.as_ref().is_some_and(|t| {
                plan.tenant_steps.get(t).is_some_and(|steps| {
                    steps
                        .iter()
                        .any(|s| s.module == o.step.module && s.to.is_some())
                })
            })
        };
        let released: Vec<(String, String, Option<String>)> = tenants
            .iter()
            .filter(|o| o.outcome == Outcome::Succeeded && o.step.action.is_down())
            .filter(|o| !partial(o))
            .filter_map(|o| {
                Some((
                    o.step.tenant.clone()?,
                    o.step.module.clone(),
                    o.ended_at.clone(),
                ))
            })
            .collect();
        let planned: BTreeMap<&str, &Step> = plan
            .landlord
            .iter()
            .map(|s| (s.module.as_str(), s))
            .collect();
        let mut modules: BTreeSet<String> = planned.keys().map(|m| m.to_string()).collect();
        modules.extend(
            released
                .iter()
                .map(|(_, m, _)| m.clone())
                .filter(|m| self.has_landlord_scope(m)),
        );
        if modules.is_empty() {
            return Vec::new();
        }
        // The recorder writes these too, in its next batch: written now, so that a rollback
        // deciding after this one sees these tenants let go. A row another job wrote since
        // (the module installed there again) stays.
        let removals: Vec<RegistryWrite> = released
            .into_iter()
            .map(|(tenant, module, unless_after)| RegistryWrite::Removal {
                tenant,
                module,
                unless_after,
            })
            .collect();
        if let Err(e) = self.registry.write(&removals).await {
            tracing::warn!(error = %e, "could not record the released tenants before the landlord's decision");
        }
        let deadline = Instant::now() + self.config.lock_wait;
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut outcomes = Vec::new();
        for m in self.catalog.graph.order(&modules).into_iter().rev() {
            let step = planned.get(m.as_str()).map(|s| (*s).clone());
            if control.is_cancelled() {
                if let Some(step) = &step {
                    outcomes.push(not_started(step, CANCELLED));
                }
                continue;
            }
            let after_failed = self
                .catalog
                .graph
                .dependants(&m)
                .into_iter()
                .find(|d| failed.contains(d));
            let (outcome, stays) = match after_failed {
                Some(d) => (
                    step.map(|s| skipped(&s, format!("{d}'s landlord scope stays"), tx)),
                    true,
                ),
                None => {
                    let why = "no tenant keeps it now";
                    self.release_one(&m, step, job_id, deadline, why, tx, control)
                        .await
                }
            };
            if stays {
                failed.insert(m.clone());
            }
            outcomes.extend(outcome);
        }
        outcomes
    }

    /// Going up, after the tenants: a module whose landlord scope this job installed and none
    /// of whose tenant steps ran (skipped: the graph forbade them, or its landlord scope was
    /// gone) would leave landlord tables no tenant keeps; they are released as a rollback
    /// releases them. A cancelled job stops instead (`rollback MODULE --all` finishes it).
    pub(super) async fn landlord_unused(
        &self,
        job_id: &str,
        landlord: &[StepOutcome],
        tenants: &[StepOutcome],
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        if control.is_cancelled() {
            return Vec::new();
        }
        let installed: BTreeSet<String> = landlord
            .iter()
            .filter(|o| o.outcome == Outcome::Succeeded && o.step.action == Action::Install)
            .map(|o| o.step.module.clone())
            .collect();
        let unused: BTreeSet<String> = installed
            .into_iter()
            .filter(|m| {
                let mut steps = tenants.iter().filter(|o| &o.step.module == m).peekable();
                steps.peek().is_some()
                    && steps.all(|o| matches!(o.outcome, Outcome::Skipped { .. }))
            })
            .collect();
        let deadline = Instant::now() + self.config.lock_wait;
        let mut outcomes = Vec::new();
        for m in self.catalog.graph.order(&unused).into_iter().rev() {
            let reason = "installed for tenants whose steps were all skipped";
            let (outcome, _) = self
                .release_one(&m, None, job_id, deadline, reason, tx, control)
                .await;
            outcomes.extend(outcome);
        }
        outcomes
    }

    /// Releases `module`'s landlord scope if nobody keeps it (see [`Release`]): the planned
    /// `step`, or one made now with `why`. The outcome is `None` when there is nothing to
    /// report (kept by a tenant and not planned, or gone and not planned); the flag says
    /// whether the scope stays applied.
    #[allow(clippy::too_many_arguments)]
    async fn release_one(
        &self,
        module: &str,
        step: Option<Step>,
        job_id: &str,
        deadline: Instant,
        why: &str,
        tx: &Events,
        control: &JobControl,
    ) -> (Option<StepOutcome>, bool) {
        let made = |migrations: Vec<MigrationInfo>, unknown: bool| Step {
            to: None,
            module: module.to_string(),
            scope: Scope::Landlord,
            tenant: None,
            action: Action::Rollback,
            migrations: migrations.into(),
            reason: Some(why.to_string()),
            after: Vec::new(),
            unknown,
            drops: None,
        };
        match self.release(module, job_id, deadline).await {
            Release::Revert(lock, migrations) => {
                let step = step.unwrap_or_else(|| made(migrations, false));
                let outcome = self
                    .step(&step, self.registry.landlord(), tx, control)
                    .await;
                drop(lock);
                let stays = outcome.outcome != Outcome::Succeeded;
                (Some(outcome), stays)
            }
            Release::Gone => (
                step.map(|s| skipped(&s, "already rolled back by another job".to_string(), tx)),
                false,
            ),
            // Kept because a tenant has it is what a plan over some tenants expects; any other
            // reason is reported, planned step or not.
            Release::Kept { reason, expected } => match step {
                Some(s) => (Some(skipped(&s, reason, tx)), true),
                None if !expected => (Some(skipped(&made(Vec::new(), true), reason, tx)), true),
                None => (None, true),
            },
        }
    }

    /// Decides, under the landlord's lock, whether `module`'s landlord scope goes now.
    async fn release(&self, module: &str, job_id: &str, deadline: Instant) -> Release {
        let db = self.registry.landlord();
        let finish = format!("`estate rollback {module} --all` finishes it");
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let lock = match db.lock(wait).await {
                Ok(lock) => lock,
                Err(e) => {
                    return Release::Kept {
                        reason: format!("{e}; {finish}"),
                        expected: false,
                    };
                }
            };
            match self.keeper(module, job_id).await {
                Ok(Keeper::Nobody(Some(migrations))) => return Release::Revert(lock, migrations),
                Ok(Keeper::Nobody(None)) => return Release::Gone,
                Ok(Keeper::Tenant(who)) => {
                    return Release::Kept {
                        reason: format!("{module} is kept: {who}"),
                        expected: true,
                    };
                }
                Ok(Keeper::Job(job)) => {
                    drop(lock);
                    if Instant::now() >= deadline {
                        return Release::Kept {
                            reason: format!("{module} is kept: {job}; {finish} once it ends"),
                            expected: false,
                        };
                    }
                    tokio::time::sleep(INSTALLING_POLL).await;
                }
                Err(e) => {
                    return Release::Kept {
                        reason: format!("the registry could not be read: {e}; {finish}"),
                        expected: false,
                    };
                }
            }
        }
    }

    /// Who keeps `module`'s landlord scope now; read under the landlord's lock.
    async fn keeper(&self, module: &str, job_id: &str) -> Result<Keeper> {
        match self.registry.kept_by(module, job_id).await? {
            Some(KeptBy::Tenants(tenants)) => {
                return Ok(Keeper::Tenant(match tenants.as_slice() {
                    [one] => format!("tenant {one} still has it"),
                    [first, ..] => format!("tenants {first} and others still have it"),
                    [] => unreachable!("kept by tenants means by one at least"),
                }));
            }
            Some(KeptBy::Job { id, operator }) => {
                return Ok(Keeper::Job(format!(
                    "job {id} of {operator} may still install it"
                )));
            }
            None => {}
        }
        let Some(migrator) = self.migrators.get(module) else {
            return Ok(Keeper::Nobody(None));
        };
        let db = self.registry.landlord();
        let status = migrator.status(Scope::Landlord, db).await?;
        if status.applied.is_empty() {
            return Ok(Keeper::Nobody(None));
        }
        let applied: BTreeSet<i64> = status.applied.iter().map(|e| e.version).collect();
        let mut migrations: Vec<MigrationInfo> = migrator
            .migrations(Scope::Landlord, db.engine())
            .into_iter()
            .filter(|m| applied.contains(&m.version))
            .collect();
        migrations.reverse();
        Ok(Keeper::Nobody(Some(migrations)))
    }

    fn has_landlord_scope(&self, module: &str) -> bool {
        self.migrators
            .get(module)
            .is_some_and(|m| m.has_scope(Scope::Landlord))
    }

    /// Whether `module`'s landlord scope has anything applied; a read that fails says no, so
    /// nothing is built on a scope that cannot be seen.
    async fn landlord_applied(&self, module: &str) -> bool {
        let Some(migrator) = self.migrators.get(module) else {
            return false;
        };
        match migrator
            .status(Scope::Landlord, self.registry.landlord())
            .await
        {
            Ok(status) => !status.applied.is_empty(),
            Err(e) => {
                tracing::warn!(module, error = %e, "the landlord scope could not be read");
                false
            }
        }
    }
}
