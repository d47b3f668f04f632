//! estate: installs, upgrades and rolls back the migrations of a multi-tenant, modular
//! application.
//!
//! The application is split into bounded contexts. Each context owns its migration sets in two
//! scopes (`landlord`, `tenant`) and a migrator that applies them; the registry in the landlord
//! database records which module is installed for which tenant and orchestrates those migrators
//! without ever running another context's schema itself.
//!
//! Dependencies point one way: [`cli`] -> [`jobs`] -> [`registry`] -> [`migrator`] /
//! [`tenancy`] -> [`database`]; [`catalog`] is read by the registry and knows no database.
//! [`project::Project`] ties them together and is the API both the CLI and the console use.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod database;
pub mod engine;
pub mod error;
pub mod files;
pub mod jobs;
pub mod migrator;
pub mod operator;
pub mod project;
pub mod registry;
pub mod scaffold;
pub mod signals;
pub mod statements;
pub mod sync;
pub mod tenancy;
pub mod theme;
pub mod tui;

pub use error::{Error, Result};
pub use project::Project;
