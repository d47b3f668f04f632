//! The job runner: executes a plan's steps, tenants side by side, and emits events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::events::{JobEvent, JobReport, Outcome, Progress, StepOutcome, StepRef};
use super::recorder::Recorder;
use crate::catalog::Catalog;
use crate::clock::now;
use crate::config::Config;
use crate::database::Database;
use crate::error::Result;
use crate::migrator::{Applied, MigrationInfo, MigrationRun, ModuleMigrator, RunContext, Target};
use crate::operator::Operator;
use crate::plan::{Action, Plan, Step};
use crate::registry::{JobRecord, Registry, TenantRecord, repair_from_ledgers};
use crate::sync::lock;

/// Lets another task cancel a running job, and says when a job halts on its own. Cancelling
/// stops it at the next migration boundary: a migration under way finishes (or fails) whole,
/// the rest of its step and the steps not started are left for the next run.
#[derive(Debug, Clone, Default)]
pub struct JobControl {
    cancelled: Arc<AtomicBool>,
    /// Halt the job's remaining tenants once this many have failed (`--max-failures`).
    max_failures: Option<usize>,
}

impl JobControl {
    /// A job that halts its remaining tenants once `n` have failed: a migration that fails
    /// everywhere is not tried on the whole fleet. Tenants already under way finish.
    pub fn with_max_failures(mut self, n: Option<usize>) -> JobControl {
        self.max_failures = n.map(|n| n.max(1));
        self
    }

    pub fn max_failures(&self) -> Option<usize> {
        self.max_failures
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// A job's count of its tenants, for progress events and the failure policy.
struct Tally {
    started: Instant,
    total: usize,
    done: usize,
    failed: usize,
    not_started: usize,
    /// Set once `max_failures` tenants failed: tenants not yet started stay so.
    halted: Option<String>,
}

impl Tally {
    fn progress(&self) -> Progress {
        // Paced on the tenants that ran: the ones not started took no time.
        let ran = self.done - self.not_started;
        let left = self.total - self.done;
        let eta_ms = (ran > 0).then(|| {
            let per = self.started.elapsed().as_millis() as f64 / ran as f64;
            (per * left as f64) as u64
        });
        Progress {
            done: self.done,
            failed: self.failed,
            not_started: self.not_started,
            total: self.total,
            eta_ms,
        }
    }
}

/// A job id: the start time and the process, readable and unique enough for one landlord.
pub fn new_job_id() -> String {
    format!(
        "{}-{:04x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%3f"),
        std::process::id() & 0xffff
    )
}

pub struct JobRunner<'a> {
    pub config: &'a Config,
    pub catalog: &'a Catalog,
    pub migrators: &'a BTreeMap<String, Arc<dyn ModuleMigrator>>,
    pub registry: &'a Registry,
    pub operator: &'a Operator,
}

type Events = UnboundedSender<JobEvent>;

impl JobRunner<'_> {
    /// Runs `plan` to the end and returns what each step did. Events go to the registry's
    /// recorder and then to `observer`, in order.
    pub async fn run(
        &self,
        plan: &Plan,
        observer: Option<Events>,
        control: JobControl,
    ) -> Result<JobReport> {
        let job_id = new_job_id();
        // Held for the job's life, taken before the row says `running`: a later estate that
        // can take it knows this process is gone and records the job interrupted.
        let job_lock = crate::database::DatabaseLock::job(
            "landlord",
            self.registry.landlord().address(),
            &job_id,
        )
        .await
        .inspect_err(
            |e| tracing::warn!(job = %job_id, error = %e, "the job's lock could not be taken"),
        )
        .ok();
        self.registry
            .start_job(
                &JobRecord {
                    id: job_id.clone(),
                    action: plan.action.to_string(),
                    modules: plan.modules.join(","),
                    tenants: plan.tenant_steps.len() as i64,
                    steps: plan.step_count() as i64,
                    operator: self.operator.user.clone(),
                    ssh_client: self.operator.ssh_client.clone(),
                    started_at: now(),
                    finished_at: None,
                    state: "running".to_string(),
                    failed: 0,
                    skipped: 0,
                },
                &plan
                    .tenant_steps
                    .iter()
                    .filter(|(_, steps)| !steps.is_empty())
                    .map(|(t, _)| t.clone())
                    .collect::<Vec<_>>(),
            )
            .await?;
        tracing::info!(job = %job_id, action = %plan.action, steps = plan.step_count(), "job started");
        let (tx, mut rx) = unbounded_channel::<JobEvent>();
        let mut recorder =
            Recorder::new(self.registry, self.catalog, self.operator, job_id.clone());
        let record = async {
            // Whatever queued up while the last batch was written goes in the next one.
            const BATCH: usize = 1024;
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Some(o) = &observer {
                    for event in &batch {
                        let _ = o.send(event.clone());
                    }
                }
                recorder.on_batch(&batch).await;
                batch.clear();
            }
        };
        let execute = async {
            let _ = tx.send(JobEvent::JobStarted {
                job_id: job_id.clone(),
                action: plan.action,
                steps: plan.step_count(),
                tenants: plan.tenant_steps.len(),
            });
            let steps = self.execute(plan, &tx, &control).await;
            let report = JobReport {
                job_id: job_id.clone(),
                action: plan.action,
                steps,
            };
            let _ = tx.send(JobEvent::JobFinished {
                job_id: job_id.clone(),
                succeeded: report.succeeded(),
                failed: report.failed(),
                skipped: report.skipped(),
            });
            drop(tx);
            report
        };
        let (report, ()) = tokio::join!(execute, record);
        if recorder.errors > 0 {
            // The tenants' ledgers hold what ran; the registry missed some of it. Rebuild its
            // rows from the ledgers now; if the landlord still refuses, the job's row stays
            // `running` and the next estate to start finds it dead and does the same.
            let tenants: Vec<String> = plan.tenant_steps.keys().cloned().collect();
            match repair_from_ledgers(
                self.config,
                self.catalog,
                self.migrators,
                self.registry,
                &tenants,
            )
            .await
            {
                Ok(repaired) => {
                    tracing::warn!(job = %job_id, errors = recorder.errors, repaired, "the registry missed job events; its rows were rebuilt from the ledgers")
                }
                Err(e) => {
                    tracing::error!(job = %job_id, error = %e, "the registry missed job events and cannot be repaired now; the next estate to start repairs it");
                    if let Some(lock) = job_lock {
                        lock.release();
                    }
                    return Ok(report);
                }
            }
        }
        // A job halted by its failure policy failed: its not-started tenants are in the
        // skipped count and in the report.
        let state = if report.is_success() {
            "succeeded"
        } else if control.is_cancelled() {
            "interrupted"
        } else {
            "failed"
        };
        self.registry
            .finish_job(
                &job_id,
                state,
                report.failed() as i64,
                (report.skipped() + report.not_started()) as i64,
            )
            .await?;
        tracing::info!(job = %job_id, state, failed = report.failed(), skipped = report.skipped(), "job finished");
        if let Some(lock) = job_lock {
            lock.release();
        }
        Ok(report)
    }

    async fn execute(&self, plan: &Plan, tx: &Events, control: &JobControl) -> Vec<StepOutcome> {
        let mut outcomes = Vec::new();
        // Modules whose landlord step failed or was skipped.
        let mut landlord_failed: BTreeSet<String> = BTreeSet::new();
        if plan.action.is_down() {
            let tenant_outcomes = self.tenants(plan, &landlord_failed, tx, control).await;
            // A module's landlord scope goes only if every tenant let go of it.
            let blocked: BTreeSet<String> = tenant_outcomes
                .iter()
                .filter(|o| o.outcome != Outcome::Succeeded)
                .map(|o| o.step.module.clone())
                .collect();
            outcomes.extend(tenant_outcomes);
            outcomes.extend(
                self.landlord(plan, &mut landlord_failed, &blocked, tx, control)
                    .await,
            );
        } else {
            outcomes.extend(
                self.landlord(plan, &mut landlord_failed, &BTreeSet::new(), tx, control)
                    .await,
            );
            outcomes.extend(self.tenants(plan, &landlord_failed, tx, control).await);
        }
        outcomes
    }

    async fn landlord(
        &self,
        plan: &Plan,
        failed: &mut BTreeSet<String>,
        blocked: &BTreeSet<String>,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        if plan.landlord.is_empty() {
            return Vec::new();
        }
        let db = self.registry.landlord();
        let lock = db.lock(self.config.lock_wait).await;
        let mut outcomes = Vec::new();
        for step in &plan.landlord {
            let skip = if let Err(e) = &lock {
                Some(e.to_string())
            } else if control.is_cancelled() {
                Some("the job was cancelled".to_string())
            } else if blocked.contains(&step.module) {
                Some(format!(
                    "{} is still installed for a tenant whose rollback did not succeed",
                    step.module
                ))
            } else {
                step.after
                    .iter()
                    .find(|m| failed.contains(*m))
                    .map(|m| format!("{m} did not succeed on the landlord"))
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
        outcomes
    }

    /// Every tenant's steps, tenants side by side: at most `concurrency` at once, and at most
    /// each server's own limit on one server. The next tenant starts whenever any finishes,
    /// so a slow tenant holds only itself; tenants are taken in turn from each server, so a
    /// server at its limit does not hold the others back.
    async fn tenants(
        &self,
        plan: &Plan,
        landlord_failed: &BTreeSet<String>,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        let records: BTreeMap<String, TenantRecord> = match self.registry.tenants().await {
            Ok(all) => all.into_iter().map(|t| (t.slug.clone(), t)).collect(),
            Err(e) => {
                let error = format!("the registry could not be read: {e}");
                return plan
                    .tenant_steps
                    .values()
                    .flatten()
                    .map(|s| failed_to_start(s, &error, tx))
                    .collect();
            }
        };
        let limits: BTreeMap<String, Arc<tokio::sync::Semaphore>> = self
            .config
            .servers
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    Arc::new(tokio::sync::Semaphore::new(s.concurrency)),
                )
            })
            .collect();
        let mut by_server: BTreeMap<
            Option<String>,
            std::collections::VecDeque<(&String, &Vec<Step>)>,
        > = BTreeMap::new();
        for (tenant, steps) in plan.tenant_steps.iter().filter(|(_, s)| !s.is_empty()) {
            let server = records.get(tenant).and_then(|r| r.placement.server.clone());
            by_server
                .entry(server)
                .or_default()
                .push_back((tenant, steps));
        }
        let total: usize = by_server.values().map(|q| q.len()).sum();
        let mut order = Vec::with_capacity(total);
        while order.len() < total {
            for queue in by_server.values_mut() {
                if let Some(next) = queue.pop_front() {
                    order.push(next);
                }
            }
        }
        let tally = Mutex::new(Tally {
            started: Instant::now(),
            total,
            done: 0,
            failed: 0,
            not_started: 0,
            halted: None,
        });
        let halted = || lock(&tally).halted.clone();
        futures::stream::iter(order)
            .map(|(tenant, steps)| {
                let record = records.get(tenant);
                let limit = record
                    .and_then(|r| r.placement.server.as_ref())
                    .and_then(|s| limits.get(s))
                    .cloned();
                let tally = &tally;
                async move {
                    let _permit = match &limit {
                        Some(l) => l.acquire().await.ok(),
                        None => None,
                    };
                    let outcomes = match halted() {
                        Some(reason) => steps.iter().map(|s| not_started(s, &reason)).collect(),
                        None => {
                            self.tenant(plan, tenant, record, landlord_failed, tx, control)
                                .await
                        }
                    };
                    let failed = outcomes
                        .iter()
                        .any(|o| matches!(o.outcome, Outcome::Failed { .. }));
                    let skipped = outcomes
                        .iter()
                        .all(|o| matches!(o.outcome, Outcome::NotStarted { .. }));
                    let progress = {
                        let mut t = lock(tally);
                        t.done += 1;
                        t.failed += usize::from(failed);
                        t.not_started += usize::from(skipped);
                        if let Some(max) = control.max_failures
                            && t.failed >= max
                            && t.halted.is_none()
                        {
                            tracing::warn!(failed = t.failed, max, "halting the job: too many tenants failed");
                            t.halted = Some(format!(
                                "not started: the job halted after {} tenant(s) failed (--max-failures {max})",
                                t.failed
                            ));
                        }
                        t.progress()
                    };
                    let _ = tx.send(JobEvent::TenantFinished {
                        tenant: tenant.clone(),
                        failed,
                        progress,
                    });
                    outcomes
                }
            })
            .buffer_unordered(self.config.concurrency)
            .collect::<Vec<Vec<StepOutcome>>>()
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// One tenant's steps, in order, on its own database under its lock.
    async fn tenant(
        &self,
        plan: &Plan,
        tenant: &str,
        record: Option<&TenantRecord>,
        landlord_failed: &BTreeSet<String>,
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
                    .map(|s| failed_to_start(s, &error, tx))
                    .collect();
            }
        };
        let lock = db.lock_transactions(self.config.lock_wait).await;
        // Planned from the registry alone: the ledger must agree with the files before
        // anything is built on it (drift in any context refuses the tenant, as a plan would).
        if verify
            && lock.is_ok()
            && let Err(e) = crate::migrator::verify_database(self.migrators, &db).await
        {
            let error = e.to_string();
            drop(lock);
            db.close().await;
            return steps
                .iter()
                .map(|s| failed_to_start(s, &error, tx))
                .collect();
        }
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut outcomes = Vec::new();
        for step in steps {
            let skip = if let Err(e) = &lock {
                Some(Err(e.to_string()))
            } else if control.is_cancelled() {
                Some(Ok("the job was cancelled".to_string()))
            } else if !step.action.is_down() && landlord_failed.contains(&step.module) {
                Some(Ok(format!(
                    "its landlord step on {} did not succeed",
                    step.module
                )))
            } else {
                step.after
                    .iter()
                    .find(|m| {
                        failed.contains(*m)
                            || (!step.action.is_down() && landlord_failed.contains(*m))
                    })
                    .map(|m| Ok(format!("{m} did not succeed for {tenant}")))
            };
            let outcome = match skip {
                Some(Ok(reason)) => skipped(step, reason, tx),
                Some(Err(error)) => failed_to_start(step, &error, tx),
                None => self.step(step, &db, tx, control).await,
            };
            if outcome.outcome != Outcome::Succeeded {
                failed.insert(step.module.clone());
            }
            outcomes.push(outcome);
        }
        drop(lock);
        db.close().await;
        outcomes
    }

    /// Runs one step: the context's migrator on one scope of one database.
    async fn step(
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
        run.cancel = Some(control.cancelled.clone());
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
        let result = match self.migrators.get(&step.module) {
            None => Err(crate::Error::Migrator(format!(
                "no migrator for {}",
                step.module
            ))),
            Some(migrator) if step.action.is_down() => {
                migrator.rollback(step.scope, db, Target::ZERO, &run).await
            }
            Some(migrator) => migrator.migrate(step.scope, db, Target::Latest, &run).await,
        };
        let millis = started.elapsed().as_millis() as u64;
        let migrations: Vec<MigrationRun> = std::mem::take(&mut *lock(&runs));
        let versions: Vec<i64> = migrations.iter().map(|r| r.version).collect();
        let known: Vec<MigrationInfo> = self
            .migrators
            .get(&step.module)
            .map(|m| m.migrations(step.scope, db.engine()))
            .unwrap_or_default();
        let known_versions: Vec<i64> = known.iter().map(|i| i.version).collect();
        let applied = applied_after(step.action, result.is_ok(), &versions, &known_versions)
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
                        Action::Install => JobEvent::ModuleInstalled { tenant, module },
                        Action::Upgrade => JobEvent::ModuleUpgraded { tenant, module },
                        Action::Rollback => JobEvent::ModuleRolledBack { tenant, module },
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
        }
    }
}

/// The highest migration applied in a step's scope once it ended, from what it ran and the
/// migrations the migrator knows (ascending), so the registry can answer "how many pending"
/// without opening the database. `None` when the step changed nothing.
fn applied_after(action: Action, succeeded: bool, ran: &[i64], known: &[i64]) -> Option<i64> {
    match (action.is_down(), succeeded) {
        // Everything known is applied after a successful migrate to the latest.
        (false, true) => Some(known.last().copied().unwrap_or(0)),
        (true, true) => Some(0),
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

fn skipped(step: &Step, reason: String, tx: &Events) -> StepOutcome {
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
    }
}

/// A step of a tenant the job never started, having halted first.
/// Listeners hear of it once per tenant, from `TenantFinished`, not per step.
fn not_started(step: &Step, reason: &str) -> StepOutcome {
    let step_ref = StepRef::of(step);
    StepOutcome {
        step: step_ref,
        outcome: Outcome::NotStarted {
            reason: reason.to_string(),
        },
        migrations: Vec::new(),
        millis: 0,
    }
}

/// A step that could not start because its database could not be opened or locked: it failed
/// (the operator must act), it was not merely skipped.
fn failed_to_start(step: &Step, error: &str, tx: &Events) -> StepOutcome {
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
    });
    StepOutcome {
        step: step_ref,
        outcome: Outcome::Failed {
            error: error.to_string(),
        },
        migrations: Vec::new(),
        millis: 0,
    }
}
