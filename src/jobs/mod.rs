//! Jobs: executing a plan in the background, many tenants at once, and reporting as it goes.
//!
//! A job runs the landlord steps first (last for a rollback), then each tenant's steps, tenants
//! side by side up to the configured concurrency. Every step locks its database, asks the
//! context's migrator to act, and emits events. One tenant's failure never stops another
//! tenant: the failed step and the steps that depend on it are reported, the rest run. The
//! registry records installations by listening to the same events any observer (the CLI's
//! progress lines, the console's Jobs view) receives.

mod events;
mod recorder;
mod runner;

pub use events::{JobEvent, JobReport, Outcome, StepOutcome, StepRef};
pub use runner::{JobControl, JobRunner, new_job_id};
