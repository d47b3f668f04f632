//! One job event as a line of the CLI's progress: what a step did, a migration applied,
//! recorded or reverted, a line a migrator program said.

use super::table::paint;
use crate::theme::theme;
use estate_engine::{Action, JobEvent, RunDirection};

/// The tenant a step's event is about: `Some(None)` for the landlord, `None` for an event of
/// no step.
pub fn event_target(event: &JobEvent) -> Option<Option<&str>> {
    match event {
        JobEvent::StepStarted { step }
        | JobEvent::MigrationApplied { step, .. }
        | JobEvent::MigratorSaid { step, .. }
        | JobEvent::StepSucceeded { step, .. }
        | JobEvent::StepFailed { step, .. }
        | JobEvent::StepSkipped { step, .. } => Some(step.tenant.as_deref()),
        _ => None,
    }
}

/// One progress line for an event, for stderr.
pub fn event(event: &JobEvent) -> Option<String> {
    Some(match event {
        JobEvent::StepStarted { step } => format!("{} {step}", paint(theme().dim, "→")),
        JobEvent::MigrationApplied { run, step } if step.action == Action::Adopt => format!(
            "    {} recorded {:04} {} (adopted: not run)",
            paint(theme().installed, "✓"),
            run.version,
            run.description
        ),
        JobEvent::MigrationApplied { run, .. } => {
            let verb = if run.direction == RunDirection::Up {
                "applied"
            } else {
                "reverted"
            };
            format!(
                "    {} {} {:04} {} ({} ms)",
                paint(theme().installed, "✓"),
                verb,
                run.version,
                run.description,
                run.millis
            )
        }
        JobEvent::MigratorSaid { line, .. } => format!("    {} {line}", paint(theme().dim, "│")),
        JobEvent::StepFailed { step, error, .. } => {
            format!("{} {step}: {error}", paint(theme().failed, "✗"))
        }
        JobEvent::StepSkipped { step, reason } => {
            format!("{} {step} skipped: {reason}", paint(theme().outdated, "-"))
        }
        _ => return None,
    })
}
