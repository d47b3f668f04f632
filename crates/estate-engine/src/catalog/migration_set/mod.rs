//! A migration set: the ordered migrations of one context in one scope.
//!
//! Files follow sqlx-cli's reversible convention, `<version>_<description>.up.sql` with its
//! `.down.sql`, so a folder made by `sqlx migrate add -r` is a valid set as it is. Versions are
//! integers ordered numerically. A migration may also ship engine-specific files beside the
//! generic ones (`0003_x.up.postgres.sql`, `0003_x.down.sqlite.sql`); on its engine the specific
//! file wins. Beside them, a migration may be a blueprint (`0004_x.toml`, rendered per engine)
//! or a folder in diesel's layout (`2024-01-15-093000_x/up.sql` + `down.sql`), used as it is.
//! The checksum of a migration is taken over the file written by hand (the up file used on
//! the engine, or the blueprint), with line endings normalised, so a CRLF checkout does not
//! look like drift and a new estate that renders a blueprint differently does not either.
//!
//! The parts: `file` (one file read into memory, and the no-transaction marker), `names` (what
//! a file name says: version, description, direction, engine), `checksum`, `load` (reading a
//! folder of sqlx-style files into a set, every problem collected), `blueprints` (a blueprint
//! in a set, rendered for every engine) and `diesel` (diesel-layout folders).

mod blueprints;
mod checksum;
mod diesel;
mod file;
mod load;

pub(crate) use load::source_text;
mod names;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use checksum::checksum;
pub use diesel::folder_stem;
pub use file::{NO_TRANSACTION, SqlFile, is_no_transaction};
pub use names::parse_file_name;

use super::Scope;
use super::blueprint::Blueprint;
use crate::sql::Engine;

/// One reversible migration: its generic files and any engine-specific ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    /// From the file name, underscores read as spaces (as sqlx-cli records it).
    pub description: String,
    /// Up files by engine; `None` is the generic file.
    pub ups: BTreeMap<Option<Engine>, SqlFile>,
    pub downs: BTreeMap<Option<Engine>, SqlFile>,
    /// When the migration is a blueprint: what it declares (its files above are rendered).
    pub blueprint: Option<Blueprint>,
}

impl Migration {
    /// The up file used on `engine`: its own, else the generic one.
    pub fn up(&self, engine: Engine) -> Option<&SqlFile> {
        self.ups.get(&Some(engine)).or_else(|| self.ups.get(&None))
    }

    /// The down file used on `engine`: its own, else the generic one.
    pub fn down(&self, engine: Engine) -> Option<&SqlFile> {
        self.downs
            .get(&Some(engine))
            .or_else(|| self.downs.get(&None))
    }

    /// The name of the generic up file (or the first one), for messages.
    pub fn file_name(&self) -> String {
        self.ups
            .values()
            .next()
            .map(SqlFile::name)
            .unwrap_or_else(|| format!("{}_{}", self.version, self.description))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub context: String,
    pub scope: Scope,
    pub dir: PathBuf,
    /// Ascending by version; each one usable on every engine.
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    pub fn empty(context: &str, scope: Scope, dir: &Path) -> Self {
        MigrationSet {
            context: context.to_string(),
            scope,
            dir: dir.to_path_buf(),
            migrations: Vec::new(),
        }
    }

    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }
}
