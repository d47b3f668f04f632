//! The job runner: one job from start to finish. It records the job as running (under the
//! job's lock, so a later estate can tell a dead job from a live one), runs the plan through
//! the fleet loop while the recorder writes what the events say, repairs the registry from
//! the ledgers if the recorder missed events, and records how the job ended.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::events::{JobEvent, JobReport};
use super::recorder::Recorder;
use crate::catalog::Catalog;
use crate::clock::now;
use crate::config::Config;
use crate::error::Result;
use crate::migrator::ModuleMigrator;
use crate::operator::Operator;
use crate::plan::Plan;
use crate::registry::{JobCounts, JobRecord, LOGGED_JOB, Registry, repair_from_ledgers};

/// How often a running job reads the registry for a cancel asked by another process.
const CANCEL_POLL: Duration = Duration::from_millis(500);

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

    /// The flag a migrator checks between migrations (`RunContext::cancel`).
    pub(super) fn flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }
}

/// The modules a job may install or upgrade (none for a rollback): while it runs, no
/// rollback reverts their landlord scope.
fn installing(plan: &Plan) -> Vec<String> {
    if plan.action.is_down() {
        return Vec::new();
    }
    let modules: std::collections::BTreeSet<&String> =
        plan.steps().into_iter().map(|s| &s.module).collect();
    modules.into_iter().cloned().collect()
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
    /// Where `Project`'s subscribers hear the job's domain events.
    pub subscribers: Option<tokio::sync::broadcast::Sender<super::DomainEvent>>,
}

/// Where a job's events go: the recorder, then the observer.
pub(super) type Events = UnboundedSender<JobEvent>;

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
        let tenants = plan.tenant_steps.values().filter(|s| !s.is_empty()).count();
        let tenants = tenants.min(self.config.concurrency);
        for server in &self.config.servers {
            server.warm_shared_pools(tenants);
        }
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
                    counts: JobCounts::default(),
                    cancel_requested_by: None,
                    cancel_requested_at: None,
                },
                &plan
                    .tenant_steps
                    .iter()
                    .filter(|(_, steps)| !steps.is_empty())
                    .map(|(t, _)| t.clone())
                    .collect::<Vec<_>>(),
                &installing(plan),
            )
            .await?;
        tracing::info!(job = %job_id, action = %plan.action, steps = plan.step_count(), "{LOGGED_JOB}");
        self.prune_logs().await;
        let (tx, mut rx) = unbounded_channel::<JobEvent>();
        let (end_watch, watch_ended) = tokio::sync::oneshot::channel::<()>();
        let watch = self.watch_cancel(&job_id, &control, tx.clone(), watch_ended);
        let mut recorder =
            Recorder::new(self.registry, self.catalog, self.operator, job_id.clone());
        let mut hooks = super::Hooks::new(
            &self.config.hooks,
            self.config.root.clone(),
            self.subscribers.clone(),
            self.catalog,
            &job_id,
            &self.operator.user,
        );
        let record = async {
            const BATCH: usize = 1024;
            // A batch gathers what comes within this of its first event: a landlord commit
            // per tenant would cost the landlord's server more than a small tenant's own
            // migrations, and each batch is a transaction of a few statements there. Other
            // processes read the registry no more often (`jobs log --follow` every 250 ms, a
            // console every second); this one's observer hears each event at once.
            const GATHER: std::time::Duration = std::time::Duration::from_millis(250);
            let forward = |events: &[JobEvent]| {
                if let Some(o) = &observer {
                    for event in events {
                        let _ = o.send(event.clone());
                    }
                }
            };
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                forward(&batch);
                let until = tokio::time::Instant::now() + GATHER;
                while batch.len() < BATCH {
                    let seen = batch.len();
                    match tokio::time::timeout_at(until, rx.recv_many(&mut batch, BATCH - seen))
                        .await
                    {
                        Ok(n) if n > 0 => forward(&batch[seen..]),
                        // The time is up, or the job ended.
                        _ => break,
                    }
                }
                recorder.on_batch(&batch).await;
                // After the registry has them: a hook reads what it was told is done.
                hooks.on_batch(&batch);
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
            let steps = self.execute(plan, &job_id, &tx, &control).await;
            let report = JobReport {
                job_id: job_id.clone(),
                action: plan.action,
                steps,
                hooks: Vec::new(),
            };
            // The watch ends (and drops its sender) before the last event, so the recorder
            // sees the end of the channel right after it.
            let _ = end_watch.send(());
            let _ = tx.send(JobEvent::JobFinished {
                job_id: job_id.clone(),
                succeeded: report.succeeded(),
                failed: report.failed(),
                skipped: report.skipped(),
                not_started: report.not_started(),
            });
            drop(tx);
            report
        };
        let (mut report, (), ()) = tokio::join!(execute, record, watch);
        report.hooks = hooks.finish().await;
        if recorder.landlord_down() {
            // Asking it again now would cost a connect timeout more: the job's row stays
            // `running`, and the next estate to start finds it dead and repairs its tenants.
            tracing::error!(job = %job_id, errors = recorder.errors, "the landlord cannot be reached: the next estate to start repairs the registry from the ledgers");
            if let Some(lock) = job_lock {
                lock.release();
            }
            return Ok(report);
        }
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
        let counts = JobCounts {
            succeeded: report.succeeded() as i64,
            failed: report.failed() as i64,
            skipped: report.skipped() as i64,
            not_started: report.not_started() as i64,
            ..recorder.counts()
        };
        self.registry.finish_job(&job_id, state, &counts).await?;
        tracing::info!(job = %job_id, state, failed = report.failed(), skipped = report.skipped(), "job finished");
        if let Some(lock) = job_lock {
            lock.release();
        }
        Ok(report)
    }

    /// Until `ended`: every [`CANCEL_POLL`], a cancel asked in the registry (by another
    /// process: `estate jobs cancel`, another console) cancels the job here, and a cancel
    /// asked here (a signal, this console) is written there, with who asked. Either way an
    /// event says so, once.
    async fn watch_cancel(
        &self,
        job_id: &str,
        control: &JobControl,
        events: Events,
        mut ended: tokio::sync::oneshot::Receiver<()>,
    ) {
        let mut tick = tokio::time::interval(CANCEL_POLL);
        loop {
            tokio::select! {
                _ = &mut ended => return,
                _ = tick.tick() => {}
            }
            // The job's end never waits on the registry (a landlord gone costs a connect
            // timeout per question): a question still out when it ends is dropped.
            let asked = tokio::select! {
                _ = &mut ended => return,
                asked = self.cancel_exchange(job_id, control) => asked,
            };
            let Some(by) = asked else { continue };
            tracing::warn!(job = %job_id, by = %by, "job cancelled");
            let _ = events.send(JobEvent::CancelRequested { by });
            return;
        }
    }

    /// One look at the cancel: one asked here is written to the registry; one asked there is
    /// taken here. Who asked, once there is a cancel.
    async fn cancel_exchange(&self, job_id: &str, control: &JobControl) -> Option<String> {
        {
            let by = if control.is_cancelled() {
                let by = self.operator.to_string();
                if let Err(e) = self.registry.request_cancel(job_id, &by).await {
                    tracing::warn!(job = %job_id, error = %e, "could not record the cancel in the registry");
                }
                by
            } else {
                match self.registry.cancel_requested(job_id).await {
                    Ok(Some(by)) => {
                        control.cancel();
                        by
                    }
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::warn!(job = %job_id, error = %e, "could not read the job's cancel request");
                        return None;
                    }
                }
            };
            Some(by)
        }
    }

    /// Removes the log lines of jobs that ended longer ago than the config keeps them. A
    /// failure costs only disk: it is logged, and the job goes on.
    async fn prune_logs(&self) {
        let days = i64::from(self.config.job_log_days);
        let before = (chrono::Utc::now() - chrono::Duration::days(days))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match self.registry.prune_job_logs(&before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(lines = n, days, "old job log lines pruned"),
            Err(e) => tracing::warn!(error = %e, "could not prune old job log lines"),
        }
    }
}
