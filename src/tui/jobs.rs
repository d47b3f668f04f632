//! Jobs started from the console while they run: progress (tenants done / total, failures)
//! and the log lines their events make, kept for the log pane; and the log of a job the
//! registry recorded, read back from its history rows.

use estate_engine::{HistoryEntry, Plan, log_lines};
use estate_engine::{JobControl, JobEvent, JobReport};
pub use estate_engine::{LineKind, LogLine};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Interrupted,
    /// The job could not run at all (say, the landlord was unreachable).
    Error(String),
}

impl JobState {
    pub fn label(&self) -> &str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
            JobState::Error(_) => "error",
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// A job this console started.
#[derive(Debug)]
pub struct LiveJob {
    /// The registry's id, once the job started.
    pub job_id: Option<String>,
    pub action: String,
    pub modules: String,
    /// Who started it.
    pub operator: String,
    pub started_at: String,
    pub state: JobState,
    pub control: JobControl,
    pub steps: usize,
    pub steps_done: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Steps of tenants the job halted or was cancelled before.
    pub not_started: usize,
    pub tenants: usize,
    pub tenants_done: usize,
    /// The time left at the pace so far, from the job's progress events.
    pub eta_ms: Option<u64>,
    pub lines: Vec<LogLine>,
}

impl LiveJob {
    pub fn new(plan: &Plan, control: JobControl, operator: &str) -> LiveJob {
        LiveJob {
            job_id: None,
            action: plan.action.to_string(),
            modules: plan.modules.join(","),
            operator: operator.to_string(),
            started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            state: JobState::Queued,
            control,
            steps: plan.step_count(),
            steps_done: 0,
            failed: 0,
            skipped: 0,
            not_started: 0,
            tenants: plan.tenant_steps.values().filter(|s| !s.is_empty()).count(),
            tenants_done: 0,
            eta_ms: None,
            lines: vec![LogLine::now(
                None,
                LineKind::Info,
                format!(
                    "queued: {} {} ({} steps, {} tenants)",
                    plan.action,
                    plan.modules.join(" "),
                    plan.step_count(),
                    plan.tenant_steps.len()
                ),
            )],
        }
    }

    fn log(&mut self, tenant: Option<&String>, kind: LineKind, text: String) {
        self.lines.push(LogLine::now(tenant, kind, text));
    }

    /// Follows one of the job's events: its counts, and the lines its log in the registry
    /// gets too (the same words, from the engine).
    pub fn on(&mut self, event: &JobEvent) {
        match event {
            JobEvent::JobStarted { job_id, .. } => {
                self.job_id = Some(job_id.clone());
                self.state = JobState::Running;
            }
            JobEvent::StepSucceeded { .. } => self.steps_done += 1,
            JobEvent::StepFailed { .. } => {
                self.steps_done += 1;
                self.failed += 1;
            }
            JobEvent::StepSkipped { .. } => {
                self.steps_done += 1;
                self.skipped += 1;
            }
            JobEvent::TenantFinished { progress, .. } => {
                self.tenants_done = progress.done;
                self.eta_ms = progress.eta_ms.filter(|_| progress.done < progress.total);
            }
            JobEvent::JobFinished { not_started, .. } => self.not_started = *not_started,
            _ => {}
        }
        self.lines.extend(log_lines(event));
    }

    /// The job's task ended.
    pub fn finish(&mut self, result: Result<JobReport, String>) {
        self.state = match result {
            Ok(report) if report.is_success() => JobState::Succeeded,
            Ok(_) if self.control.is_cancelled() => JobState::Interrupted,
            Ok(_) => JobState::Failed,
            Err(e) => {
                self.log(None, LineKind::Failed, format!("the job did not run: {e}"));
                JobState::Error(e)
            }
        };
    }

    /// The tenants this job's lines name, by slug.
    pub fn tenants_seen(&self) -> Vec<String> {
        let seen: std::collections::BTreeSet<&String> = self
            .lines
            .iter()
            .filter_map(|l| l.tenant.as_ref())
            .collect();
        seen.into_iter().cloned().collect()
    }

    /// Steps that succeeded so far.
    pub fn succeeded(&self) -> usize {
        self.steps_done - self.failed - self.skipped
    }
}

/// A recorded job's log, from its history rows (`history` newest first; the log oldest first).
pub fn recorded_log(history: &[HistoryEntry], job_id: &str) -> Vec<LogLine> {
    history
        .iter()
        .rev()
        .filter(|h| h.job_id == job_id)
        .map(|h| LogLine {
            at: h.started_at.clone(),
            tenant: h.tenant.clone(),
            kind: if h.outcome == "succeeded" {
                LineKind::Ok
            } else {
                LineKind::Failed
            },
            text: format!(
                "{} {} {} on {}: migrations {} in {} ms{}",
                if h.outcome == "succeeded" {
                    "✓"
                } else {
                    "✗"
                },
                h.action,
                h.module,
                h.tenant
                    .as_ref()
                    .map_or("landlord".to_string(), |t| format!("tenant {t}")),
                if h.migrations.is_empty() {
                    "-"
                } else {
                    &h.migrations
                },
                h.duration_ms,
                h.error
                    .as_ref()
                    .and_then(|e| e.lines().next())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}
