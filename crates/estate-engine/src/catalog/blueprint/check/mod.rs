//! The checks inside one blueprint file. Each table, column, index and alteration is checked
//! as it is turned from its TOML shape into the model, so a part that fails is left out and
//! the rest are still checked: `estate check` lists every problem of the file at once, each
//! with its key (`create_table[0].columns[2].type`) and line.
//!
//! What needs the other files of the catalog is checked later, in [`super::references`].

mod alter;
mod column;
mod table;

use std::collections::BTreeSet;
use std::path::Path;

use toml::Spanned;

use super::names::{IDENTIFIER_FIX, MAX_IDENTIFIER, is_valid_identifier, reserved};
use super::{AddColumn, Blueprint, Problem};
use crate::problem::located;

/// Collects the problems of one file, each at its key's line.
pub(super) struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> Checker<'a> {
        Checker {
            path,
            text,
            problems: Vec::new(),
        }
    }

    /// The blueprint, when nothing was found wrong in it.
    pub(super) fn finish(self, blueprint: Blueprint) -> Result<Blueprint, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(blueprint)
        } else {
            Err(self.problems)
        }
    }

    fn at(&self, span: std::ops::Range<usize>) -> String {
        located(self.path, self.text, Some(span))
    }

    fn problem(
        &mut self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl std::fmt::Display,
        fix: impl Into<String>,
    ) {
        let at = self.at(span);
        self.problems
            .push(Problem::at(at, format!("{key}: {message}"), fix));
    }

    /// A table or index name (`column` false) or a column name: valid and not reserved.
    pub(super) fn identifier(&mut self, name: &Spanned<String>, key: &str, column: bool) -> bool {
        if !is_valid_identifier(name.get_ref()) {
            self.problem(
                name.span(),
                key,
                format!("{:?} is not a valid name", name.get_ref()),
                IDENTIFIER_FIX,
            );
            return false;
        }
        if let Some(why) = reserved(name.get_ref(), column) {
            self.problem(
                name.span(),
                key,
                format!("{:?} is reserved: {why}", name.get_ref()),
                "choose another name",
            );
            return false;
        }
        true
    }

    /// Whether this is the first `create_table` of its name; a second one is the problem.
    pub(super) fn created_once(
        &mut self,
        created: &mut BTreeSet<String>,
        name: &Spanned<String>,
        key: &str,
    ) -> bool {
        if created.insert(name.get_ref().clone()) {
            return true;
        }
        self.problem(
            name.span(),
            &format!("{key}.name"),
            format!("table {:?} is created twice", name.get_ref()),
            "create each table once",
        );
        false
    }

    /// The checks over every index of the file at once, made or named: each name fits and is
    /// used once.
    pub(super) fn index_names(&mut self, blueprint: &Blueprint) {
        for (i, a) in blueprint.add_columns.iter().enumerate() {
            if let Some(index) = a.unique_index().filter(|x| x.name.len() > MAX_IDENTIFIER) {
                self.problems.push(Problem::at(
                    a.at.clone(),
                    format!(
                        "add_column[{i}].column: the unique index made for it, {:?}, is longer than 63 characters",
                        index.name
                    ),
                    "give the column a shorter name, or add it without unique and an [[add_index]] with a name",
                ));
            }
        }
        // Index names share one namespace per database (per schema on PostgreSQL).
        let mut names = BTreeSet::new();
        let all_indexes = blueprint
            .create_tables
            .iter()
            .flat_map(|t| t.indexes.iter())
            .chain(blueprint.add_indexes.iter().map(|a| &a.index))
            .cloned()
            .chain(
                blueprint
                    .add_columns
                    .iter()
                    .filter_map(AddColumn::unique_index),
            )
            .collect::<Vec<_>>();
        for index in all_indexes {
            if !names.insert(index.name.clone()) {
                self.problems.push(Problem::at(
                    index.at.clone(),
                    format!("index name {:?} is used twice", index.name),
                    "give one of the indexes its own name = \"...\"",
                ));
            }
        }
    }
}
