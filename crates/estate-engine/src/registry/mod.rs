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
mod unnest;
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
    /// The landlord opened a second time, read-only, for the whole-table reads (tenants,
    /// installations) that the console and every fleet job begin with: on SQLite they then
    /// run side by side rather than in turn on the one connection. Opened at first use.
    reader: tokio::sync::OnceCell<Option<Database>>,
}

impl Registry {
    /// The landlord database, where landlord-scope migrations also run.
    pub fn landlord(&self) -> &Database {
        &self.db
    }

    pub async fn close(&self) {
        if let Some(Some(reader)) = self.reader.get() {
            reader.close().await;
        }
        self.db.close().await;
    }

    fn new(db: Database) -> Registry {
        Registry {
            db,
            reader: tokio::sync::OnceCell::new(),
        }
    }

    /// Where a whole-table read goes: the read-only handle when there is one (and it
    /// opens), else the landlord's own.
    async fn bulk(&self) -> &Database {
        let reader = self
            .reader
            .get_or_init(|| async {
                self.db.reader().await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "no second handle on the landlord: reads wait their turn");
                    None
                })
            })
            .await;
        reader.as_ref().unwrap_or(&self.db)
    }

    /// A database error, named after the landlord.
    fn err(&self, e: sqlx::Error) -> Error {
        Error::db(self.db.label(), e)
    }
}
