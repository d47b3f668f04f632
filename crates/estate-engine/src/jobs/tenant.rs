//! One tenant's steps, and one step: the tenant's database opened and locked, its ledger
//! checked for drift when the plan did not read it, each step's migrator asked to act, and
//! the events that say what happened.
//!
//! A step whose database cannot be opened or locked failed (the operator must act); one
//! whose dependency did not succeed, that the dependency graph forbids now (`guard.rs`), or
//! that a cancel reached first, is skipped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::events::{JobEvent, Outcome, StepOutcome, StepRef};
use super::landlord::LandlordUp;
use super::runner::{Events, JobControl, JobRunner};
use crate::database::Database;
use crate::migrator::{Applied, MigrationInfo, MigrationRun, RunContext, Target};
use crate::plan::{Action, Plan, Step};
use crate::registry::TenantRecord;
use crate::sql::Engine;
use crate::sync::lock;

impl JobRunner<'_> {
    /// One tenant's steps, in order, on its own database under its lock.
    pub(super) async fn tenant(
        &self,
        plan: &Plan,
        tenant: &str,
        record: Option<&TenantRecord>,
        landlord: &LandlordUp,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        let steps: &[Step] = plan.tenant_steps.get(tenant).map_or(&[], Vec::as_slice);
        let verify = plan.unverified.contains(tenant);
        let record = record.ok_or_else(|| format!("tenant {tenant} is no longer in the registry"));
        let db = match record {
            Ok(record) => record
                .placement
                .open(self.config, tenant)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let db = match db {
            Ok(db) => db,
            Err(error) => {
                return steps
                    .iter()
                    .map(|s| failed_to_start(s, &error, true, tx))
                    .collect();
            }
        };
        // The graph's check and the step it allows must be one under the lock: on PostgreSQL,
        // where the lock is otherwise taken by each transaction, a tenant with a checked step
        // holds it (on a connection of its own) across its steps.
        // A rollback's steps too: the time a rollback ends is what its removal of the
        // registry row is judged by, and must be read while no install can come between.
        // And a program's: it works outside estate's transactions, so the lock is held
        // around its whole call.
        let span = self.any_guarded(steps)
            || plan.action.is_down()
            || plan.action == Action::Adopt
            || steps.iter().any(|s| {
                self.migrators
                    .get(&s.module)
                    .is_some_and(|m| m.keeps_own_ledger())
            });
        let lock = if db.engine() == Engine::Postgres && span {
            db.lock(self.config.lock_wait).await.map(Some)
        } else {
            db.lock_transactions(self.config.lock_wait).await
        };
        // Planned from the registry alone: the ledger must agree with the files before
        // anything is built on it (drift in any context refuses the tenant, as a plan would).
        if verify
            && lock.is_ok()
            && let Err(e) = crate::migrator::verify_database(self.migrators, &db).await
        {
            let error = e.to_string();
            // Drift is the module's files' doing; anything else is the database's.
            let unreachable = !matches!(e, crate::Error::Drift { .. });
            drop(lock);
            db.close().await;
            return steps
                .iter()
                .map(|s| failed_to_start(s, &error, unreachable, tx))
                .collect();
        }
        let mut failed: BTreeSet<String> = BTreeSet::new();
        // Skipped because another job rolled back a landlord scope since the plan: a race, not
        // a failure, and so are the steps that need them (no failed row: nothing is left for
        // `migrate` to finish). A step the graph refuses is not failed either (see below).
        let mut raced: BTreeSet<String> = BTreeSet::new();
        let mut outcomes = Vec::new();
        for step in steps {
            if lock.is_ok() && control.is_cancelled() {
                // Nothing was tried: a re-run picks it up, as after a halt.
                outcomes.push(not_started(step, CANCELLED));
                continue;
            }
            // A step going up that is skipped because what it needs did not succeed is
            // blocked: the operator asked for it, so its module is recorded failed there (see
            // JobEvent::ModuleBlocked) and `estate migrate` finishes it once the cause is fixed.
            let up = !step.action.is_down();
            // An adoption held back asked for nothing to run: no failed row is left for it.
            let blocks = up && step.action != Action::Adopt;
            let skip = if let Err(e) = &lock {
                Some(Err(e.to_string()))
            } else if let Some(reason) = landlord.gone.get(&step.module) {
                raced.insert(step.module.clone());
                Some(Ok((reason.clone(), false)))
            } else if up && landlord.failed.contains(&step.module) {
                Some(Ok((
                    format!("its landlord step on {} did not succeed", step.module),
                    blocks,
                )))
            } else if let Some(m) = step.after.iter().find(|m| raced.contains(*m)) {
                raced.insert(step.module.clone());
                Some(Ok((
                    format!("requirement {m} was changed by another job for {tenant}"),
                    false,
                )))
            } else {
                step.after
                    .iter()
                    .find(|m| failed.contains(*m) || (up && landlord.failed.contains(*m)))
                    .map(|m| {
                        Ok((
                            format!("requirement {m} did not succeed for {tenant}"),
                            blocks,
                        ))
                    })
            };
            // What the plan read may have changed since: another job's step on this tenant.
            // Such a step is skipped, not failed: the steps after it meet the same check and
            // the tenant's state stays as the other job left it.
            if skip.is_none()
                && let Some(reason) = self.graph_forbids(step, &db, tenant).await
            {
                outcomes.push(skipped(step, reason, tx));
                continue;
            }
            let outcome = match skip {
                Some(Ok((reason, blocked))) => {
                    let outcome = skipped(step, reason.clone(), tx);
                    if blocked {
                        let _ = tx.send(JobEvent::ModuleBlocked {
                            step: StepRef::of(step),
                            reason,
                        });
                    }
                    outcome
                }
                Some(Err(error)) => failed_to_start(step, &error, true, tx),
                None => self.step(step, &db, tx, control).await,
            };
            if outcome.outcome != Outcome::Succeeded && !raced.contains(&step.module) {
                failed.insert(step.module.clone());
            }
            outcomes.push(outcome);
        }
        drop(lock);
        db.close().await;
        outcomes
    }

    /// Runs one step: the context's migrator on one scope of one database.
    pub(super) async fn step(
        &self,
        step: &Step,
        db: &Database,
        tx: &Events,
        control: &JobControl,
    ) -> StepOutcome {
        let step_ref = StepRef::of(step);
        let _ = tx.send(JobEvent::StepStarted {
            step: step_ref.clone(),
        });
        let started = Instant::now();
        let runs: Arc<Mutex<Vec<MigrationRun>>> = Arc::default();
        let mut run = RunContext::new(self.operator.to_string());
        run.cancel = Some(control.flag());
        {
            let runs = runs.clone();
            let tx = tx.clone();
            let step_ref = step_ref.clone();
            run.on_migration = Some(Arc::new(move |r: &MigrationRun| {
                lock(&runs).push(r.clone());
                let _ = tx.send(JobEvent::MigrationApplied {
                    step: step_ref.clone(),
                    run: r.clone(),
                });
            }));
        }
        {
            let tx = tx.clone();
            let step_ref = step_ref.clone();
            run.on_line = Some(Arc::new(move |line: &str| {
                let _ = tx.send(JobEvent::MigratorSaid {
                    step: step_ref.clone(),
                    line: line.to_string(),
                });
            }));
        }
        let result = match self.migrators.get(&step.module) {
            None => Err(crate::Error::Migrator(format!(
                "no migrator for {}",
                step.module
            ))),
            Some(migrator) if step.action.is_down() => {
                let to = step.to.map_or(Target::ZERO, Target::Version);
                migrator.rollback(step.scope, db, to, &run).await
            }
            Some(_) if step.action == Action::Adopt => {
                self.adopt(step, db, &run).await.map(|()| Vec::new())
            }
            Some(migrator) => {
                let to = step.to.map_or(Target::Latest, Target::Version);
                migrator.migrate(step.scope, db, to, &run).await
            }
        };
        let millis = started.elapsed().as_millis() as u64;
        let ended_at = crate::clock::now();
        let migrations: Vec<MigrationRun> = std::mem::take(&mut *lock(&runs));
        let versions: Vec<i64> = migrations.iter().map(|r| r.version).collect();
        let known: Vec<MigrationInfo> = self
            .migrators
            .get(&step.module)
            .map(|m| m.migrations(step.scope, db.engine()))
            .unwrap_or_default();
        let known_versions: Vec<i64> = known.iter().map(|i| i.version).collect();
        let applied = match step.action {
            // An adoption leaves the database where the other tool left it, perhaps short of
            // the latest: at the highest version it recorded.
            Action::Adopt => result
                .is_ok()
                .then(|| step.migrations.iter().map(|m| m.version).max().unwrap_or(0)),
            _ => applied_after(step, result.is_ok(), &versions, &known_versions),
        }
        .map(|v| Applied::of(&known, v));
        let outcome = match result {
            Ok(_) => {
                let _ = tx.send(JobEvent::StepSucceeded {
                    step: step_ref.clone(),
                    migrations: versions,
                    millis,
                    applied: applied.clone(),
                });
                if let Some(tenant) = &step.tenant {
                    let (tenant, module) = (tenant.clone(), step.module.clone());
                    let _ = tx.send(match step.action {
                        Action::Install | Action::Adopt => {
                            JobEvent::ModuleInstalled { tenant, module }
                        }
                        // Rolled back to a version, the module stays installed there.
                        Action::Upgrade | Action::Rollback if step.to.is_some() => {
                            JobEvent::ModuleUpgraded { tenant, module }
                        }
                        Action::Upgrade => JobEvent::ModuleUpgraded { tenant, module },
                        Action::Rollback => JobEvent::ModuleRolledBack {
                            tenant,
                            module,
                            at: ended_at.clone(),
                        },
                    });
                }
                Outcome::Succeeded
            }
            Err(e) => {
                let error = e.to_string();
                // A cancelled step stopped cleanly between two migrations: the module is
                // still installed there, partly up to date, not broken.
                let cancelled_midway = matches!(e, crate::Error::Cancelled { .. })
                    && step.tenant.is_some()
                    && !versions.is_empty();
                tracing::warn!(step = %step_ref, %error, "step failed");
                let _ = tx.send(JobEvent::StepFailed {
                    step: step_ref.clone(),
                    migrations: versions,
                    millis,
                    error: error.clone(),
                    applied: applied.clone(),
                    unreachable: false,
                });
                if let (true, Some(tenant)) = (cancelled_midway, &step.tenant) {
                    let _ = tx.send(JobEvent::ModuleUpgraded {
                        tenant: tenant.clone(),
                        module: step.module.clone(),
                    });
                }
                Outcome::Failed { error }
            }
        };
        StepOutcome {
            step: step_ref,
            outcome,
            migrations,
            millis,
            ended_at: Some(ended_at),
        }
    }
}

/// The highest migration applied in a step's scope once it ended, from what it ran and the
/// migrations the migrator knows (ascending), so the registry can answer "how many pending"
/// without opening the database. `None` when the step changed nothing.
fn applied_after(step: &Step, succeeded: bool, ran: &[i64], known: &[i64]) -> Option<i64> {
    match (step.action.is_down(), succeeded) {
        // Everything known (or up to `--to`) is applied after a successful migrate.
        (false, true) => Some(
            known
                .last()
                .copied()
                .unwrap_or(0)
                .min(step.to.unwrap_or(i64::MAX)),
        ),
        (true, true) => Some(step.to.unwrap_or(0)),
        (false, false) => ran.iter().max().copied(),
        // Reverted newest first: what is left is everything below the oldest reverted.
        (true, false) => ran.iter().min().map(|lowest| {
            known
                .iter()
                .copied()
                .filter(|v| v < lowest)
                .max()
                .unwrap_or(0)
        }),
    }
}

pub(super) fn skipped(step: &Step, reason: String, tx: &Events) -> StepOutcome {
    let step_ref = StepRef::of(step);
    let _ = tx.send(JobEvent::StepSkipped {
        step: step_ref.clone(),
        reason: reason.clone(),
    });
    StepOutcome {
        step: step_ref,
        outcome: Outcome::Skipped { reason },
        migrations: Vec::new(),
        millis: 0,
        ended_at: None,
    }
}

/// Why the steps a cancelled job had not begun were not started.
pub(super) const CANCELLED: &str = "not started: the job was cancelled";

/// A step of a tenant the job never started, having halted first.
/// Listeners hear of it once per tenant, from `TenantFinished`, not per step.
pub(super) fn not_started(step: &Step, reason: &str) -> StepOutcome {
    let step_ref = StepRef::of(step);
    StepOutcome {
        step: step_ref,
        outcome: Outcome::NotStarted {
            reason: reason.to_string(),
        },
        migrations: Vec::new(),
        millis: 0,
        ended_at: None,
    }
}

/// A step that could not start because its database could not be opened, locked or read
/// (`unreachable`), or drifted: it failed (the operator must act), it was not merely skipped.
pub(super) fn failed_to_start(
    step: &Step,
    error: &str,
    unreachable: bool,
    tx: &Events,
) -> StepOutcome {
    let step_ref = StepRef::of(step);
    let _ = tx.send(JobEvent::StepStarted {
        step: step_ref.clone(),
    });
    let _ = tx.send(JobEvent::StepFailed {
        step: step_ref.clone(),
        migrations: Vec::new(),
        millis: 0,
        error: error.to_string(),
        applied: None,
        unreachable,
    });
    StepOutcome {
        step: step_ref,
        outcome: Outcome::Failed {
            error: error.to_string(),
        },
        migrations: Vec::new(),
        millis: 0,
        ended_at: None,
    }
}
