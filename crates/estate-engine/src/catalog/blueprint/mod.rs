//! Blueprint migrations: a `<version>_<description>.toml` file in a migration set that says
//! *what* tables a context needs (portable column types, nullability, defaults, keys, indexes,
//! foreign keys) and the alterations it makes (add a column, add an index). estate decides *how*
//! per engine ([`render`]) and derives the down migration, so one file serves SQLite and
//! PostgreSQL alike.
//!
//! Parsing checks everything that can be checked inside the file, naming the key and its line;
//! what needs the other contexts (whose table a foreign key points at) is checked by
//! [`check_references`] once the whole catalog is loaded.
//!
//! The parts: `model` (what a parsed blueprint is), `parse` (the TOML shape and the walk from
//! it to the model), `check` (the checks inside one file), `names` (what may be called what),
//! `types` (column types, defaults, on-delete actions), [`render`] (SQL per engine) and
//! `references` (the checks that need the whole catalog).

mod check;
mod model;
mod names;
mod parse;
mod references;
pub mod render;
mod types;

#[cfg(test)]
mod tests;

pub use model::{AddColumn, AddIndex, Blueprint, Column, Index, Reference, TableSpec};
pub use names::is_valid_identifier;
pub use references::check_references;
pub use types::{ColumnType, DefaultValue, OnDelete, TYPE_NAMES};

use super::Problem;
