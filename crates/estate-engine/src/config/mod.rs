//! The project's configuration: `config/estate.toml` plus `ESTATE_*` environment overrides.
//!
//! Relative paths in the file are resolved against the project root, the parent of the folder
//! that holds the file, so the tool behaves the same from any working directory. Relative paths
//! given in the environment are resolved against the working directory, as a shell user expects.
//!
//! The parts: `parse` (the file's TOML shape and its resolution into a [`Config`]), `env` (the
//! `ESTATE_*` overrides), `servers` (the PostgreSQL servers), `tenancy` (the layout and the
//! templates of tenant databases).

mod env;
mod hooks;
mod parse;
mod servers;
mod tenancy;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use hooks::{DEFAULT_HOOK_TIMEOUT, Hook, HookOn};
pub use tenancy::{Layout, TenancyConfig};

use crate::database::{Address, Server};
use crate::error::{Error, Result};

/// Where the config file is looked for when neither `--config` nor `ESTATE_CONFIG` says.
pub const DEFAULT_CONFIG: &str = "config/estate.toml";

/// How many tenants a job migrates at once, unless the config says, per tenancy layout.
pub const DEFAULT_SQLITE_CONCURRENCY: usize = 4;
pub const DEFAULT_POSTGRES_CONCURRENCY: usize = 16;

/// The placeholder in the tenant path template that the tenant's slug replaces.
pub const SLUG_PLACEHOLDER: &str = "{slug}";

/// The resolved configuration: every path absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// The project root: relative paths in the file are relative to it.
    pub root: PathBuf,
    /// The folders that hold one folder per context, read as one catalog; the first is where
    /// `estate new context` writes.
    pub contexts: Vec<PathBuf>,
    pub read_only: bool,
    /// How many tenants are migrated at once.
    pub concurrency: usize,
    /// How long a job waits for another job's lock on a database before giving up on it.
    pub lock_wait: Duration,
    pub landlord: Address,
    pub tenancy: TenancyConfig,
    /// PostgreSQL servers by name, in config order.
    pub servers: Vec<Server>,
    pub log_dir: PathBuf,
    /// A `tracing` filter directive, e.g. `info` or `estate=debug`.
    pub log_level: String,
    /// Days the registry keeps the log lines of a job that ended (its history rows stay).
    pub job_log_days: u32,
    /// `[migrators] pass_env`: variables handed on to command migrators by name.
    pub pass_env: Vec<String>,
    /// `[[hooks]]`: commands run after a job's events are recorded.
    pub hooks: Vec<Hook>,
}

/// A refusal that names the config file first, so the operator knows which file to correct.
fn refused_in(file: &Path, problem: impl std::fmt::Display, fix: impl Into<String>) -> Error {
    Error::refused(format!("{}: {problem}", file.display()), fix)
}

impl Config {
    /// Reads the config: `explicit` (from `--config`) wins over `ESTATE_CONFIG`, which wins over
    /// [`DEFAULT_CONFIG`] in the working directory.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let from_env = std::env::var_os("ESTATE_CONFIG").map(PathBuf::from);
        let (file, how) = match (explicit, from_env) {
            (Some(p), _) => (p.to_path_buf(), "--config"),
            (None, Some(p)) => (p, "ESTATE_CONFIG"),
            (None, None) => (PathBuf::from(DEFAULT_CONFIG), "the default location"),
        };
        let file = absolute(&file)?;
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Error::refused(
                format!(
                    "cannot read the config file {} (from {how}): {e}",
                    file.display()
                ),
                "run estate from the project root, pass --config FILE or set ESTATE_CONFIG",
            )
        })?;
        let config = Self::parse(&file, &text)?;
        config.apply_env()
    }

    /// Refuses when a contexts folder is missing: every command needs the catalog.
    pub fn require_contexts_folder(&self) -> Result<()> {
        let Some(missing) = self.contexts.iter().find(|c| !c.is_dir()) else {
            return Ok(());
        };
        Err(Error::refused(
            format!(
                "the contexts folder {} does not exist (from {})",
                missing.display(),
                self.file.display()
            ),
            "set `contexts` in the config (or ESTATE_CONTEXTS) to the folder that holds one folder per context, or start one with `estate new context NAME`",
        ))
    }

    /// The contexts folder new contexts are written to: the first one.
    pub fn contexts_home(&self) -> &Path {
        &self.contexts[0]
    }
}

/// `path` against the working directory, without touching the disk (the file may not exist
/// yet, and a symbolic link is the operator's to keep).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(format!("resolving {}", path.display()), e))
}
