//! Parsing a blueprint: the file's TOML shape as serde reads it (every value spanned, so each
//! problem can name its line) and the walk from it to the model, handing each table and
//! alteration to the checks in the order they are written.
//!
//! Unknown keys are refused by serde itself (`deny_unknown_fields`): a misspelt `nullable`
//! would otherwise be silently ignored and change the schema.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::check::Checker;
use super::{Blueprint, Problem};
use crate::problem::located;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlueprint {
    #[serde(default)]
    create_table: Vec<RawTable>,
    #[serde(default)]
    add_column: Vec<RawAddColumn>,
    #[serde(default)]
    add_index: Vec<RawAddIndex>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) name: Spanned<String>,
    pub(super) columns: Spanned<Vec<RawColumn>>,
    #[serde(default)]
    pub(super) primary_key: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) indexes: Vec<RawIndex>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColumn {
    pub(super) name: Spanned<String>,
    #[serde(rename = "type")]
    pub(super) ty: Spanned<String>,
    #[serde(default)]
    pub(super) nullable: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) default: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) unique: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) primary_key: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) references: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) on_delete: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndex {
    pub(super) columns: Spanned<Vec<String>>,
    #[serde(default)]
    pub(super) unique: bool,
    #[serde(default)]
    pub(super) name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddColumn {
    pub(super) table: Spanned<String>,
    pub(super) column: Spanned<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddIndex {
    pub(super) table: Spanned<String>,
    pub(super) columns: Spanned<Vec<String>>,
    #[serde(default)]
    pub(super) unique: bool,
    #[serde(default)]
    pub(super) name: Option<Spanned<String>>,
}

impl Blueprint {
    /// Parses and checks `text`, the content of `path`. `Err` holds every problem found.
    pub fn parse(path: &Path, text: &str) -> Result<Blueprint, Vec<Problem>> {
        let raw: RawBlueprint = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                return Err(vec![Problem::at(
                    located(path, text, e.span()),
                    e.message().trim_end().to_string(),
                    "a blueprint holds [[create_table]] (name, columns, primary_key, indexes), [[add_column]] (table, column) and [[add_index]] (table, columns, unique, name); columns have name, type, nullable, default, unique, primary_key, references, on_delete",
                )]);
            }
        };
        let mut checker = Checker::new(path, text);
        let mut blueprint = Blueprint::default();
        let mut tables = BTreeSet::new();
        for (i, raw_table) in raw.create_table.iter().enumerate() {
            let key = format!("create_table[{i}]");
            if !checker.created_once(&mut tables, &raw_table.name, &key) {
                continue;
            }
            if let Some(table) = checker.table(raw_table, &key) {
                blueprint.create_tables.push(table);
            }
        }
        for (i, raw_add) in raw.add_column.iter().enumerate() {
            if let Some(add) = checker.add_column(raw_add, &format!("add_column[{i}]")) {
                blueprint.add_columns.push(add);
            }
        }
        for (i, raw_add) in raw.add_index.iter().enumerate() {
            if let Some(add) = checker.add_index(raw_add, &format!("add_index[{i}]")) {
                blueprint.add_indexes.push(add);
            }
        }
        checker.index_names(&blueprint);
        checker.finish(blueprint)
    }
}
