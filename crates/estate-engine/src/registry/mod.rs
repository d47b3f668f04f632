//! The registry: the landlord's record of modules, tenants, which module is installed for which
//! tenant, jobs, their logs and history.
//!
//! The registry orchestrates but never runs another context's schema: it asks each context's
//! migrator to act and records what happened by listening to the job's events. Its own schema
//! is a context too (`module_registry`, landlord only), embedded in the binary and migrated by
//! the same SQL migrator at first use.
//!
//! [`Registry`] is one type over the landlord database; its reads and writes live beside the
//! tables they touch, one file per table family (schema, modules, tenants, installations,
//! jobs, job_log, history), and `write` holds the batch a job's events make across them.
//! `landlord` says when a landlord without a registry may get one.

mod history;
mod installations;
mod job_log;
mod jobs;
mod landlord;
mod modules;
mod packed;
mod removal;
mod repair;
mod schema;
mod tenants;
mod write;

pub use history::{HistoryEntry, HistoryFilter, HistoryPage};
pub use installations::{
    InstallState, Installation, InstallationStates, InstallationSummary, KeptBy,
};
pub use job_log::{LineKind, LogLine, LoggedLine};
pub use jobs::{JobCounts, JobFilter, JobRecord};
pub use landlord::{Creation, Evidence, LOGGED_JOB, LOGGED_TENANT};
pub use removal::still_installed;
pub use repair::{repair_from_ledgers, repairs};
pub use tenants::{NewTenant, TenantRecord};
pub use write::RegistryWrite;

use crate::database::Database;
use crate::error::Error;

/// The landlord database seen as the registry.
pub struct Registry {
    db: Database,
}

impl Registry {
    /// The landlord database, where landlord-scope migrations also run.
    pub fn landlord(&self) -> &Database {
        &self.db
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    /// A database error, named after the landlord.
    fn err(&self, e: sqlx::Error) -> Error {
        Error::db(self.db.label(), e)
    }
}
