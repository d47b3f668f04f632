//! The engine of estate: installs, upgrades and rolls back the migrations of a multi-tenant,
//! modular application, and knows no user interface.
//!
//! The application is split into bounded contexts. Each context owns its migration sets in two
//! scopes (`landlord`, `tenant`) and a migrator that applies them; the registry in the landlord
//! database records which module is installed for which tenant and orchestrates those migrators
//! without ever running another context's schema itself.
//!
//! The layers, each using only those below it (tests/layers.rs keeps it so):
//!
//! ```text
//! project      Project: the one API the faces (CLI, console, an embedding binary) use
//! jobs         the fleet runner, one tenant's step, events, the recorder
//! plan         install / rollback / migrate planners: the plan shown before anything runs
//! registry     the landlord's record: modules, tenants, installations, jobs, history
//! migrator     the ModuleMigrator contract, the SQL migrator, the ledger
//! tenancy      slugs, placement, provisioning
//! catalog      contexts on disk: manifests, migration sets, blueprints, graph, tables
//! config       the config file and ESTATE_* overrides
//! database     SQLite and PostgreSQL: connections, transactions, locks
//! sql          engine names, identifier quoting, statement splitting (text only)
//! error problem clock files operator sync      the ground floor
//! ```

pub mod catalog;
pub mod clock;
pub mod config;
pub mod database;
pub mod error;
pub mod files;
pub mod jobs;
pub mod migrator;
pub mod operator;
pub mod plan;
pub mod problem;
pub mod project;
pub mod registry;
pub mod sql;
pub mod sync;
pub mod tenancy;

pub use error::{Error, Result};
pub use project::Project;

// What the faces (and an embedding binary) use, by name at the root: they reach the engine
// through `Project`'s methods and these types, never through a module below it.
pub use catalog::scaffold::{self, MigrationKind};
pub use catalog::{
    Catalog, Conflict, Problem, Scope, TableMap, TreeLine, describe_roots, tree_prefixes,
};
pub use clock::parse_since;
pub use config::Config;
pub use database::{Server, interrupt_statements, kill_programs};
pub use jobs::{
    DomainEvent, HookFailure, JobControl, JobEvent, JobReport, Outcome, Progress, human_duration,
    log_lines,
};
pub use migrator::{
    MigrationInfo, MigrationRun, ModuleMigrator, RegisteredMigrators, RunContext, RunDirection,
    ScopeStatus, Target,
};
pub use plan::{
    Action, Direction, Drops, Plan, Step, TenantSelection, WaveOrder, WaveSize, check_waves,
};
pub use project::{
    Finding, FindingKind, ImportReport, Matrix, MatrixCell, ModuleState, ModuleSummary, RefusedRow,
    Removal, Resolution, Resolved, StatusRow, TenantRow, VerifyReport,
};
pub use registry::{
    Evidence, HistoryEntry, HistoryFilter, HistoryPage, Installation, JobCounts, JobFilter,
    JobRecord, LineKind, LogLine, LoggedLine, TenantRecord, still_installed,
};
pub use sql::Engine;
pub use tenancy::{Slug, TagCondition, Tags, check_name, format_tag_list, parse_tag, parse_tags};
