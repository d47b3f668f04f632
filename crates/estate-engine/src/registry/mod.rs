//! The registry: the landlord's record of modules, tenants, which module is installed for which
//! tenant, jobs and history.
//!
//! The registry orchestrates but never runs another context's schema: it asks each context's
//! migrator to act and records what happened by listening to the job's events. Its own schema
//! is a context too (`module_registry`, landlord only), embedded in the binary and migrated by
//! the same SQL migrator at first use.

mod repair;
mod store;

pub use repair::{repair_from_ledgers, repairs};
pub use store::{
    HistoryEntry, HistoryFilter, InstallState, Installation, InstallationState, JobRecord,
    Registry, RegistryWrite, TenantRecord,
};
