//! Jobs started from the console while they run: progress (tenants done / total, failures)
//! and the log lines their events make, kept for the log pane; and the log of a job the
//! registry recorded, read back from its history rows.

use estate_engine::{HistoryEntry, Plan};
use estate_engine::{JobControl, JobEvent, JobReport};

/// How a log line reads: it sets its symbol and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Info,
    Ok,
    Failed,
    Skipped,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    /// `HH:MM:SS`, UTC like every time estate shows.
    pub at: String,
    /// The tenant the line is about; `None` for the landlord and the job itself.
    pub tenant: Option<String>,
    pub kind: LineKind,
    pub text: String,
}

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
    pub tenants: usize,
    pub tenants_done: usize,
    /// The time left at the pace so far, from the job's progress events.
    pub eta_ms: Option<u64>,
    pub lines: Vec<LogLine>,
}

fn clock() -> String {
    chrono::Utc::now().format("%H:%M:%S").to_string()
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
            tenants: plan.tenant_steps.values().filter(|s| !s.is_empty()).count(),
            tenants_done: 0,
            eta_ms: None,
            lines: vec![LogLine {
                at: clock(),
                tenant: None,
                kind: LineKind::Info,
                text: format!(
                    "queued: {} {} ({} steps, {} tenants)",
                    plan.action,
                    plan.modules.join(" "),
                    plan.step_count(),
                    plan.tenant_steps.len()
                ),
            }],
        }
    }

    fn log(&mut self, tenant: Option<&String>, kind: LineKind, text: String) {
        self.lines.push(LogLine {
            at: clock(),
            tenant: tenant.cloned(),
            kind,
            text,
        });
    }

    fn step_ended(&mut self) {
        self.steps_done += 1;
    }

    pub fn on(&mut self, event: &JobEvent) {
        match event {
            JobEvent::JobStarted { job_id, .. } => {
                self.job_id = Some(job_id.clone());
                self.state = JobState::Running;
                self.log(None, LineKind::Info, format!("job {job_id} started"));
            }
            JobEvent::StepStarted { step } => {
                self.log(step.tenant.as_ref(), LineKind::Info, format!("▸ {step}"))
            }
            JobEvent::MigrationApplied { step, run } => self.log(
                step.tenant.as_ref(),
                LineKind::Info,
                format!(
                    "  {} {:04} {} ({} ms)",
                    if step.action.is_down() {
                        "reverted"
                    } else {
                        "applied"
                    },
                    run.version,
                    run.description,
                    run.millis
                ),
            ),
            JobEvent::StepSucceeded {
                step,
                migrations,
                millis,
                ..
            } => {
                self.step_ended();
                self.log(
                    step.tenant.as_ref(),
                    LineKind::Ok,
                    format!("✓ {step}: {} migration(s), {millis} ms", migrations.len()),
                );
            }
            JobEvent::StepFailed { step, error, .. } => {
                self.step_ended();
                self.failed += 1;
                // The error's first line names the file and the cause; the fix follows.
                for (i, line) in error.lines().enumerate() {
                    let text = if i == 0 {
                        format!("✗ {step}: {line}")
                    } else {
                        format!("  {}", line.trim_start())
                    };
                    self.log(step.tenant.as_ref(), LineKind::Failed, text);
                }
            }
            JobEvent::StepSkipped { step, reason } => {
                self.step_ended();
                self.skipped += 1;
                self.log(
                    step.tenant.as_ref(),
                    LineKind::Skipped,
                    format!("- {step} skipped: {reason}"),
                );
            }
            JobEvent::JobFinished {
                succeeded,
                failed,
                skipped,
                ..
            } => self.log(
                None,
                if *failed + *skipped == 0 {
                    LineKind::Ok
                } else {
                    LineKind::Failed
                },
                format!("job finished: {succeeded} succeeded, {failed} failed, {skipped} skipped"),
            ),
            JobEvent::TenantFinished { progress, .. } => {
                self.tenants_done = progress.done;
                self.eta_ms = progress.eta_ms.filter(|_| progress.done < progress.total);
            }
            JobEvent::ModuleInstalled { .. }
            | JobEvent::ModuleUpgraded { .. }
            | JobEvent::ModuleRolledBack { .. }
            | JobEvent::ModuleBlocked { .. } => {}
        }
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
            at: h.started_at.get(11..19).unwrap_or("").to_string(),
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
