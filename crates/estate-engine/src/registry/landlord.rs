//! A landlord with no registry in it: a new project, or a registry lost.
//!
//! The two look alike (no file, no database, or one without the registry's tables), and an
//! empty registry created over a lost one would say "no tenants" while a fleet of tenant
//! databases sits on disk. So only the commands that start a project may create one
//! ([`Creation`]), and only where nothing shows an earlier one ([`Evidence`]): tenant
//! databases where the tenancy templates put them, or a log that recorded a job or a tenant.
//! Everything else is refused with the fix, and creates nothing.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::tenancy::{Discovery, discover};

/// What opening the landlord may do when it holds no registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Refuse: every command but those that start a project, and the console.
    Never,
    /// Create it when nothing shows an earlier one: `estate init`, the first `tenants add`,
    /// `estate demo`.
    IfNew,
    /// Create it even over evidence of an earlier one: `estate init --force`.
    Force,
}

/// The log line that says a job started (`jobs::runner` logs it): a log holding one shows the
/// project had a registry.
pub const LOGGED_JOB: &str = "job started";
/// The log line that says a tenant was added (`Project::add_tenant` logs it).
pub const LOGGED_TENANT: &str = "tenant added";

/// Signs that a registry existed where there is none now.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Tenant databases where the tenancy templates put them, and places nobody could read.
    pub tenants: Discovery,
    /// A log file that recorded a job or a tenant added.
    pub log: Option<PathBuf>,
}

impl Evidence {
    /// Looks for the signs: the tenant databases (each server asked once), the log files.
    pub async fn gather(config: &Config) -> Evidence {
        Evidence {
            tenants: discover(config).await,
            log: logged(&config.log_dir),
        }
    }

    /// Something shows an earlier registry.
    pub fn found(&self) -> bool {
        !self.tenants.found.is_empty() || self.log.is_some()
    }

    /// What shows it, as a clause: `3 tenant databases (acme, globex, initech) and jobs or
    /// tenants recorded in var/log/estate.log.2026-01-02`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let found = &self.tenants.found;
        if !found.is_empty() {
            let mut names: Vec<String> = found
                .iter()
                .take(3)
                .map(|f| f.placement.describe())
                .collect();
            if found.len() > 3 {
                names.push("…".to_string());
            }
            parts.push(format!(
                "{} tenant database{} ({})",
                found.len(),
                if found.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
        if let Some(log) = &self.log {
            parts.push(format!("jobs or tenants recorded in {}", log.display()));
        }
        parts.join(" and ")
    }
}

/// The first log file in `dir` that records a job or a tenant added.
fn logged(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("estate.log"))
        .map(|e| e.path())
        .collect();
    files.sort();
    files.into_iter().find(|f| {
        let Ok(file) = std::fs::File::open(f) else {
            return false;
        };
        std::io::BufReader::new(file)
            .split(b'\n')
            .map_while(std::result::Result::ok)
            .any(|line| {
                let line = String::from_utf8_lossy(&line);
                line.contains(LOGGED_JOB) || line.contains(LOGGED_TENANT)
            })
    })
}

/// The refusal for a landlord with no registry: the fix depends on whether one existed.
/// `exists`: the database is there, without the registry's tables.
pub(super) fn refusal(
    config: &Config,
    exists: bool,
    creation: Creation,
    evidence: &Evidence,
) -> Error {
    let place = config.landlord.describe();
    let state = if exists {
        format!("the landlord database ({place}) holds no registry")
    } else {
        format!("the landlord database ({place}) does not exist")
    };
    let elsewhere = format!(
        "correct [landlord] in {} if it points at the wrong place",
        config.file.display()
    );
    let (problem, fix) = if evidence.found() {
        (
            format!(
                "{state}, but an earlier registry existed: {}",
                evidence.describe()
            ),
            format!(
                "restore the landlord database from a backup ({elsewhere}); if a new, empty registry is really meant, `estate init --force` creates one (tenant databases are left as they are)"
            ),
        )
    } else if !evidence.tenants.unknown.is_empty() {
        (
            format!(
                "{state}, and whether an earlier registry existed cannot be told: {}",
                evidence.tenants.unknown.join("; ")
            ),
            format!(
                "bring that back and run again ({elsewhere}); `estate init --force` creates a new registry regardless"
            ),
        )
    } else if config.read_only {
        (
            format!("{state}: there is no registry yet"),
            "run estate once without --read-only to create it (`estate init`, or `estate tenants add SLUG`)".to_string(),
        )
    } else {
        debug_assert_eq!(creation, Creation::Never);
        (
            format!("{state}: there is no registry yet"),
            format!(
                "`estate init` creates it; so do `estate tenants add SLUG` (with the first tenant) and `estate demo`; or {elsewhere}"
            ),
        )
    };
    Error::NoRegistry { problem, fix }
}

impl super::Registry {
    /// Refuses when the landlord's file is gone since it was opened: SQLite keeps answering
    /// through the open handle (a console left open while someone deleted the file), and what
    /// a job recorded there would be lost with it.
    pub fn ensure_present(&self) -> crate::error::Result<()> {
        match self.db.address() {
            crate::database::Address::Sqlite { path } if !path.is_file() => {
                Err(Error::NoRegistry {
                    problem: format!(
                        "the landlord database ({}) is gone since estate opened it",
                        path.display()
                    ),
                    fix: "restore it from a backup, then reload (ctrl-r) or run the command again; nothing was run".to_string(),
                })
            }
            _ => Ok(()),
        }
    }
}
