//! The `ESTATE_*` environment overrides, applied over the file. Paths given there are
//! relative to the working directory, as a shell user expects, not to the project root.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Config, absolute};
use crate::database::Address;
use crate::error::{Error, Result};

impl Config {
    /// The environment over the file, checked again as a whole: an override can break what the
    /// file got right (ESTATE_CONCURRENCY=0).
    pub(super) fn apply_env(mut self) -> Result<Config> {
        let path = |name: &str| -> Result<Option<PathBuf>> {
            std::env::var_os(name)
                .map(|v| {
                    if v.is_empty() {
                        return Err(empty(name));
                    }
                    absolute(Path::new(&v))
                })
                .transpose()
        };
        // Several folders as in PATH: `a:b`.
        if let Some(v) = std::env::var_os("ESTATE_CONTEXTS") {
            self.contexts = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| absolute(&p))
                .collect::<Result<_>>()?;
            if self.contexts.is_empty() {
                return Err(empty("ESTATE_CONTEXTS"));
            }
        }
        if let Some(p) = path("ESTATE_LANDLORD_PATH")? {
            self.landlord = Address::Sqlite { path: p };
        }
        if let Some(p) = path("ESTATE_TENANTS_PATH")? {
            self.tenancy.path_template = p;
        }
        if let Some(p) = path("ESTATE_LOG_DIR")? {
            self.log_dir = p;
        }
        if let Ok(level) = std::env::var("ESTATE_LOG") {
            if level.trim().is_empty() {
                return Err(empty("ESTATE_LOG"));
            }
            self.log_level = level;
        }
        // The environment can make a run read-only, never undo `read_only = true` in the
        // config: a stray ESTATE_READ_ONLY= must not open a protected project to writes.
        if let Ok(v) = std::env::var("ESTATE_READ_ONLY")
            && !v.is_empty()
        {
            self.read_only |= parse_bool("ESTATE_READ_ONLY", &v)?;
        }
        if let Ok(v) = std::env::var("ESTATE_CONCURRENCY") {
            self.concurrency = v.parse().map_err(|_| {
                Error::refused(
                    format!("ESTATE_CONCURRENCY={v:?} is not a whole number"),
                    "set ESTATE_CONCURRENCY to a number of tenants to migrate at once, e.g. 4",
                )
            })?;
        }
        if let Ok(v) = std::env::var("ESTATE_LOCK_WAIT") {
            let seconds: u64 = v.parse().map_err(|_| {
                Error::refused(
                    format!("ESTATE_LOCK_WAIT={v:?} is not a whole number of seconds"),
                    "set ESTATE_LOCK_WAIT to how long to wait for another job's lock, e.g. 10",
                )
            })?;
            self.lock_wait = Duration::from_secs(seconds);
        }
        self.validate()?;
        // No server has more tenants at work than the whole job: its shared pools and permits
        // are sized by its own limit, and a pool larger than the workers that use it keeps
        // connections idle (see `database::postgres`).
        for server in &mut self.servers {
            server.concurrency = server.concurrency.min(self.concurrency);
        }
        Ok(self)
    }
}

/// A variable set to nothing: a mistake (`ESTATE_LOG_DIR=$UNSET_VAR`), not a wish for the
/// working directory or no contexts at all.
fn empty(name: &str) -> Error {
    Error::refused(
        format!("{name} is set but empty"),
        format!("give {name} a value, or unset it (`unset {name}`) to use the config's"),
    )
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::refused(
            format!("{name}={value:?} is neither true nor false"),
            format!("set {name} to true or false"),
        )),
    }
}
