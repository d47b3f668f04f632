//! Jobs started from the console while they run: progress (tenants done / total, failures)
//! and the log lines their events make, kept for the log pane; and the log of any job as the
//! registry keeps it, read as it grows.

use estate_engine::{JobControl, JobEvent, JobReport};
pub use estate_engine::{LineKind, LogLine};
use estate_engine::{LoggedLine, Plan, log_lines};

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
}

/// The log of a job read from the registry (any process's), as far as it has been read.
#[derive(Debug, Default)]
pub struct RecordedLog {
    pub job: String,
    pub lines: Vec<LogLine>,
    /// The last line's number read: the next read asks for the lines after it.
    pub last_seq: i64,
    /// A read is under way.
    pub reading: bool,
    /// Read once at least (an empty log is then really empty).
    pub read: bool,
    /// The job had ended when the last read was asked: nothing more will come.
    pub complete: bool,
}

impl RecordedLog {
    pub fn new(job: &str) -> RecordedLog {
        RecordedLog {
            job: job.to_string(),
            ..RecordedLog::default()
        }
    }

    /// Takes the lines a read brought.
    pub fn extend(&mut self, lines: Vec<LoggedLine>) {
        if let Some(last) = lines.last() {
            self.last_seq = last.seq;
        }
        self.lines.extend(lines.into_iter().map(|l| l.line));
        self.reading = false;
        self.read = true;
    }
}

/// The tenants `lines` name, by slug.
pub fn tenants_named(lines: &[LogLine]) -> Vec<String> {
    let seen: std::collections::BTreeSet<&String> =
        lines.iter().filter_map(|l| l.tenant.as_ref()).collect();
    seen.into_iter().cloned().collect()
}

/// One tenant's steps in `lines` (its log lines): succeeded, failed and skipped.
pub fn tenant_counts(lines: &[LogLine], tenant: &str) -> [usize; 3] {
    let mut counts = [0; 3];
    for l in lines.iter().filter(|l| l.tenant.as_deref() == Some(tenant)) {
        // A step's outcome is its first line (✓, ✗ or skipped); more lines explain it.
        match l.kind {
            LineKind::Ok if l.text.starts_with('✓') => counts[0] += 1,
            LineKind::Failed if l.text.starts_with('✗') => counts[1] += 1,
            LineKind::Skipped => counts[2] += 1,
            _ => {}
        }
    }
    counts
}
