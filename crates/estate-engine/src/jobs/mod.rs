//! Jobs: executing a plan in the background, many tenants at once, and reporting as it goes.
//!
//! A job runs the landlord steps first (last for a rollback), then each tenant's steps, tenants
//! side by side up to the configured concurrency and each server's own limit. Every step locks
//! its database, asks the context's migrator to act, and emits events. One tenant's failure
//! never stops another tenant: the failed step and the steps that depend on it are reported,
//! the rest run; only a failure policy (`--max-failures N`, `--fail-fast`) halts the tenants
//! not yet started, and reports them as such. The
//! registry records installations by listening to the same events any observer (the CLI's
//! progress lines, the console's Jobs view) receives.

mod adopt;
mod events;
mod fleet;
mod guard;
mod hooks;
mod landlord;
mod log;
mod recorder;
mod runner;
mod tenant;

pub use events::{JobEvent, JobReport, Outcome, Progress, StepOutcome, StepRef, human_duration};
pub use hooks::{DomainEvent, HookFailure, Hooks, StepCounts};
pub use log::log_lines;
pub use runner::{JobControl, JobRunner, new_job_id};
