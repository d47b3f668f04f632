//! The registry's listener: turns a job's events into tenant_modules and history rows, the
//! job's log lines and its counts.
//!
//! It runs beside the job and is the only writer of registry rows during the job, so the
//! landlord sees one writer, and it writes in batches: what queued up while it wrote last. A
//! failure to record is logged and does not stop the job: the ledgers are the truth, and the
//! registry can be reconciled from them.

use std::collections::HashMap;

use super::events::{JobEvent, StepRef};
use super::log::log_lines;
use crate::catalog::{Catalog, Scope};
use crate::clock::now;
use crate::migrator::Applied;
use crate::operator::Operator;
use crate::registry::{HistoryEntry, InstallState, JobCounts, LogLine, Registry, RegistryWrite};

pub(super) struct Recorder<'a> {
    pub registry: &'a Registry,
    pub catalog: &'a Catalog,
    pub operator: &'a Operator,
    pub job_id: String,
    started: HashMap<(String, String, Option<String>), String>,
    /// The tenant-scope version each tenant step left, for the install row that follows it.
    applied: HashMap<(String, String), Applied>,
    /// The job's counts as its events tell them, and as last written.
    counts: JobCounts,
    written: JobCounts,
    /// The number of the job's last log line.
    seq: i64,
    pub errors: usize,
    /// When the last write failed: the landlord is not asked again before [`RETRY_AFTER`],
    /// so a landlord gone mid-job costs the job one connect timeout, not one per batch.
    failed_at: Option<std::time::Instant>,
}

/// How long the recorder leaves a landlord that failed alone.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

fn key(step: &StepRef) -> (String, String, Option<String>) {
    (
        step.module.clone(),
        step.scope.to_string(),
        step.tenant.clone(),
    )
}

impl<'a> Recorder<'a> {
    pub fn new(
        registry: &'a Registry,
        catalog: &'a Catalog,
        operator: &'a Operator,
        job_id: String,
    ) -> Self {
        Recorder {
            registry,
            catalog,
            operator,
            job_id,
            started: HashMap::new(),
            applied: HashMap::new(),
            counts: JobCounts::default(),
            written: JobCounts::default(),
            seq: 0,
            errors: 0,
            failed_at: None,
        }
    }

    fn version(&self, module: &str) -> String {
        self.catalog
            .get(module)
            .map(|c| c.manifest.version.clone())
            .unwrap_or_default()
    }

    /// Records a batch of events in one landlord transaction: the events that queued up
    /// while the previous batch was written, so the landlord sees a few commits per job
    /// however many tenants it has. A failure to record is logged; the job goes on.
    pub async fn on_batch(&mut self, events: &[JobEvent]) {
        let mut writes: Vec<RegistryWrite> = events.iter().flat_map(|e| self.writes(e)).collect();
        let lines: Vec<LogLine> = events.iter().flat_map(log_lines).collect();
        if !lines.is_empty() {
            // Numbered whether or not the write succeeds: a follower reads on past a gap.
            writes.push(RegistryWrite::Log {
                job_id: self.job_id.clone(),
                first_seq: self.seq + 1,
                lines: lines.clone(),
            });
            self.seq += lines.len() as i64;
        }
        for event in events {
            self.count(event);
        }
        if self.counts != self.written {
            writes.push(RegistryWrite::Progress {
                job_id: self.job_id.clone(),
                counts: self.counts,
            });
        }
        if self.landlord_down() {
            // Missed like a failed write: the ledgers have it, the repair rebuilds it.
            self.errors += 1;
            return;
        }
        match self.registry.write(&writes).await {
            Ok(()) => {
                self.written = self.counts;
                self.failed_at = None;
            }
            Err(e) => {
                self.errors += 1;
                // A landlord that refused the rows is asked again with the next batch; one
                // that cannot be reached is left alone a while.
                if e.is_unreachable() {
                    self.failed_at = Some(std::time::Instant::now());
                }
                tracing::error!(job = %self.job_id, error = %e, writes = writes.len(), "could not record job events in the registry");
            }
        }
    }

    /// The last write failed a moment ago: the landlord is taken to be gone for now.
    pub fn landlord_down(&self) -> bool {
        self.failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER)
    }

    /// The job's counts after `event`.
    fn count(&mut self, event: &JobEvent) {
        let c = &mut self.counts;
        match event {
            JobEvent::StepSucceeded { .. } => c.succeeded += 1,
            JobEvent::StepFailed { .. } => c.failed += 1,
            JobEvent::StepSkipped { .. } => c.skipped += 1,
            JobEvent::TenantFinished { progress, .. } => {
                c.tenants_done = progress.done as i64;
                c.tenants_failed = progress.failed as i64;
            }
            // The job's own count of the steps it never started.
            JobEvent::JobFinished { not_started, .. } => c.not_started = *not_started as i64,
            _ => {}
        }
    }

    /// The counts the events told, for the job's row when it ends.
    pub fn counts(&self) -> JobCounts {
        self.counts
    }

    /// What one event changes in the registry.
    fn writes(&mut self, event: &JobEvent) -> Vec<RegistryWrite> {
        match event {
            JobEvent::StepStarted { step } => {
                self.started.insert(key(step), now());
                Vec::new()
            }
            JobEvent::StepSucceeded {
                step,
                migrations,
                millis,
                applied,
            } => {
                self.remember_applied(step, applied);
                vec![self.history(step, migrations, *millis, "succeeded", None)]
            }
            JobEvent::StepFailed {
                step,
                migrations,
                millis,
                error,
                applied,
                unreachable,
            } => {
                // For the ModuleUpgraded that follows a step cancelled midway.
                self.remember_applied(step, applied);
                let mut out = vec![self.history(step, migrations, *millis, "failed", Some(error))];
                // A database that could not be reached says nothing of a module installed
                // there; an install asked for stays asked for (`estate migrate` finishes it).
                // An adoption refused changed nothing: the module is not installed there.
                let intent = step.action != crate::plan::Action::Adopt
                    && (!unreachable || step.action == crate::plan::Action::Install);
                if let (Some(tenant), true) = (&step.tenant, intent) {
                    out.push(RegistryWrite::Installation {
                        tenant: tenant.clone(),
                        module: step.module.clone(),
                        state: InstallState::Failed,
                        version: self.version(&step.module),
                        applied: applied.clone().filter(|_| step.scope == Scope::Tenant),
                        error: Some(error.clone()),
                    });
                }
                out
            }
            JobEvent::ModuleInstalled { tenant, module }
            | JobEvent::ModuleUpgraded { tenant, module } => {
                // A module without tenant migrations ran no tenant step: nothing applied there.
                let applied = self
                    .applied
                    .remove(&(tenant.clone(), module.clone()))
                    .unwrap_or_else(|| Applied::of(&[], 0));
                vec![RegistryWrite::Installation {
                    tenant: tenant.clone(),
                    module: module.clone(),
                    state: InstallState::Installed,
                    version: self.version(module),
                    applied: Some(applied),
                    error: None,
                }]
            }
            JobEvent::ModuleRolledBack { tenant, module, at } => vec![RegistryWrite::Removal {
                tenant: tenant.clone(),
                module: module.clone(),
                unless_after: Some(at.clone()),
            }],
            // What was asked and not done stays in the registry: failed, with why.
            JobEvent::ModuleBlocked { step, reason } => {
                let Some(tenant) = &step.tenant else {
                    return Vec::new();
                };
                let error = format!("blocked: {reason}");
                vec![
                    // `failed` (the outcomes the history's schema allows), the error says
                    // it was blocked.
                    self.history(step, &[], 0, "failed", Some(&error)),
                    RegistryWrite::Installation {
                        tenant: tenant.clone(),
                        module: step.module.clone(),
                        state: InstallState::Failed,
                        version: self.version(&step.module),
                        applied: None,
                        error: Some(error),
                    },
                ]
            }
            _ => Vec::new(),
        }
    }

    /// Keeps the tenant-scope version a step left, for the installation row that follows.
    fn remember_applied(&mut self, step: &StepRef, applied: &Option<Applied>) {
        if let (Some(tenant), Some(a), Scope::Tenant) = (&step.tenant, applied, step.scope) {
            self.applied
                .insert((tenant.clone(), step.module.clone()), a.clone());
        }
    }

    fn history(
        &mut self,
        step: &StepRef,
        migrations: &[i64],
        millis: u64,
        outcome: &str,
        error: Option<&String>,
    ) -> RegistryWrite {
        let finished_at = now();
        let started_at = self
            .started
            .remove(&key(step))
            .unwrap_or_else(|| finished_at.clone());
        let entry = HistoryEntry {
            job_id: self.job_id.clone(),
            tenant: step.tenant.clone(),
            module: Some(step.module.clone()),
            scope: step.scope.to_string(),
            action: step.action.to_string(),
            operator: self.operator.user.clone(),
            ssh_client: self.operator.ssh_client.clone(),
            started_at,
            finished_at,
            duration_ms: millis as i64,
            migrations: migrations
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            outcome: outcome.to_string(),
            error: error.cloned(),
        };
        RegistryWrite::History(entry)
    }
}
