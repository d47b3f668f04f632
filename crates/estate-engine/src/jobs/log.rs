//! A job's events as the lines of its log: what the registry keeps (`estate_job_events`),
//! `estate jobs log` prints and the console's log pane shows, whichever process ran the job.

use super::events::JobEvent;
use crate::registry::{LineKind, LogLine};

/// The log lines `event` makes (none for the events only the registry's rows need).
pub fn log_lines(event: &JobEvent) -> Vec<LogLine> {
    match event {
        JobEvent::JobStarted {
            job_id,
            steps,
            tenants,
            ..
        } => vec![LogLine::now(
            None,
            LineKind::Info,
            format!("job {job_id} started: {steps} steps, {tenants} tenants"),
        )],
        JobEvent::StepStarted { step } => {
            vec![LogLine::now(
                step.tenant.as_ref(),
                LineKind::Info,
                format!("▸ {step}"),
            )]
        }
        JobEvent::MigrationApplied { step, run } => vec![LogLine::now(
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
        )],
        JobEvent::MigratorSaid { step, line } => vec![LogLine::now(
            step.tenant.as_ref(),
            LineKind::Info,
            format!("  │ {line}"),
        )],
        JobEvent::StepSucceeded {
            step,
            migrations,
            millis,
            ..
        } => vec![LogLine::now(
            step.tenant.as_ref(),
            LineKind::Ok,
            format!("✓ {step}: {} migration(s), {millis} ms", migrations.len()),
        )],
        // The error's first line names the file and the cause; the fix follows.
        JobEvent::StepFailed { step, error, .. } => error
            .lines()
            .enumerate()
            .map(|(i, text)| {
                let text = if i == 0 {
                    format!("✗ {step}: {text}")
                } else {
                    format!("  {}", text.trim_start())
                };
                LogLine::now(step.tenant.as_ref(), LineKind::Failed, text)
            })
            .collect(),
        JobEvent::StepSkipped { step, reason } => vec![LogLine::now(
            step.tenant.as_ref(),
            LineKind::Skipped,
            format!("- {step} skipped: {reason}"),
        )],
        JobEvent::CancelRequested { by } => vec![LogLine::now(
            None,
            LineKind::Failed,
            format!("cancel requested by {by}: stopping at the next migration boundary"),
        )],
        JobEvent::JobFinished {
            succeeded,
            failed,
            skipped,
            not_started,
            ..
        } => {
            let mut text =
                format!("job finished: {succeeded} succeeded, {failed} failed, {skipped} skipped");
            if *not_started > 0 {
                text.push_str(&format!(", {not_started} not started"));
            }
            let kind = if failed + skipped + not_started == 0 {
                LineKind::Ok
            } else {
                LineKind::Failed
            };
            vec![LogLine::now(None, kind, text)]
        }
        JobEvent::TenantFinished { .. }
        | JobEvent::ModuleInstalled { .. }
        | JobEvent::ModuleUpgraded { .. }
        | JobEvent::ModuleRolledBack { .. }
        // Its skip line already says why; the registry row is what matters.
        | JobEvent::ModuleBlocked { .. } => Vec::new(),
    }
}
