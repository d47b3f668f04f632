//! The checks of one created table: its columns (each once), its key (on a column or over
//! several), its indexes, and a foreign key to itself; and of one index, named or made from
//! its table and columns.

use std::collections::BTreeSet;

use toml::Spanned;

use super::Checker;
use crate::catalog::blueprint::names::{IDENTIFIER_FIX, MAX_IDENTIFIER, is_valid_identifier};
use crate::catalog::blueprint::parse::RawTable;
use crate::catalog::blueprint::{Column, Index, Problem, TableSpec};

impl Checker<'_> {
    /// An index's columns and its name, given or made from the table and columns.
    pub(super) fn index(
        &mut self,
        table: &str,
        columns: &Spanned<Vec<String>>,
        name: Option<&Spanned<String>>,
        unique: bool,
        key: &str,
    ) -> Option<Index> {
        let mut ok = true;
        if columns.get_ref().is_empty() {
            self.problem(
                columns.span(),
                &format!("{key}.columns"),
                "an index needs at least one column",
                "list the columns to index",
            );
            ok = false;
        }
        // PostgreSQL's INDEX_MAX_KEYS.
        if columns.get_ref().len() > 32 {
            self.problem(
                columns.span(),
                &format!("{key}.columns"),
                format!(
                    "{} columns; PostgreSQL indexes at most 32",
                    columns.get_ref().len()
                ),
                "index fewer columns",
            );
            ok = false;
        }
        for c in columns.get_ref() {
            if !is_valid_identifier(c) {
                self.problem(
                    columns.span(),
                    &format!("{key}.columns"),
                    format!("{c:?} is not a valid column name"),
                    IDENTIFIER_FIX,
                );
                ok = false;
            }
        }
        let name_span = name.map(Spanned::span);
        let name = match name {
            Some(name) => {
                ok &= self.identifier(name, &format!("{key}.name"), false);
                name.get_ref().clone()
            }
            None => {
                let made = format!("{table}_{}_idx", columns.get_ref().join("_"));
                if ok && made.len() > MAX_IDENTIFIER {
                    self.problem(
                        columns.span(),
                        key,
                        format!("the index name made from the table and columns, {made:?}, is longer than 63 characters"),
                        "give the index a shorter name = \"...\"",
                    );
                    ok = false;
                }
                made
            }
        };
        let at = self.at(name_span.unwrap_or(columns.span()));
        ok.then(|| Index {
            name,
            columns: columns.get_ref().clone(),
            unique,
            at,
        })
    }

    pub(in crate::catalog::blueprint) fn table(
        &mut self,
        raw: &RawTable,
        key: &str,
    ) -> Option<TableSpec> {
        let mut ok = self.identifier(&raw.name, &format!("{key}.name"), false);
        let name = raw.name.get_ref().clone();
        if raw.columns.get_ref().is_empty() {
            self.problem(
                raw.columns.span(),
                &format!("{key}.columns"),
                "a table needs at least one column",
                "list its columns, e.g. { name = \"id\", type = \"id\" }",
            );
            ok = false;
        }
        let mut columns = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, raw_column) in raw.columns.get_ref().iter().enumerate() {
            let ckey = format!("{key}.columns[{i}]");
            if !seen.insert(raw_column.name.get_ref().clone()) {
                self.problem(
                    raw_column.name.span(),
                    &format!("{ckey}.name"),
                    format!("column {:?} is declared twice", raw_column.name.get_ref()),
                    "give each column its own name",
                );
                ok = false;
            }
            match self.column(raw_column, &ckey, false) {
                Some(c) => columns.push(c),
                None => ok = false,
            }
        }
        let keyed: Vec<&Column> = columns.iter().filter(|c| c.primary_key).collect();
        let mut primary_key = Vec::new();
        if let Some(pk) = &raw.primary_key {
            let pkey = format!("{key}.primary_key");
            if !keyed.is_empty() {
                self.problem(
                    pk.span(),
                    &pkey,
                    format!("column {:?} is already the key", keyed[0].name),
                    "declare the key once: on the column, or as primary_key = [...] without an id column",
                );
                ok = false;
            } else if pk.get_ref().is_empty() {
                self.problem(
                    pk.span(),
                    &pkey,
                    "names no column",
                    "list the key's columns",
                );
                ok = false;
            }
            if pk.get_ref().len() > 32 {
                self.problem(
                    pk.span(),
                    &pkey,
                    "more than 32 columns; PostgreSQL keys at most 32",
                    "key fewer columns",
                );
                ok = false;
            }
            let mut listed = BTreeSet::new();
            for c in pk.get_ref() {
                if !listed.insert(c) {
                    self.problem(
                        pk.span(),
                        &pkey,
                        format!("{c:?} is listed twice"),
                        "list each key column once",
                    );
                    ok = false;
                }
                match columns.iter().find(|col| &col.name == c) {
                    None if seen.contains(c) => {}
                    None => {
                        self.problem(
                            pk.span(),
                            &pkey,
                            format!("{c:?} is not a column of {name}"),
                            "list columns declared in columns",
                        );
                        ok = false;
                    }
                    Some(col) if col.nullable => {
                        self.problem(
                            pk.span(),
                            &pkey,
                            format!("column {c:?} is nullable; a key column is never null"),
                            format!("remove nullable from {c}"),
                        );
                        ok = false;
                    }
                    Some(_) => {}
                }
            }
            primary_key = pk.get_ref().clone();
        } else if keyed.len() > 1 {
            self.problem(
                raw.columns.span(),
                &format!("{key}.columns"),
                format!("{} columns are each the primary key", keyed.len()),
                "keep one, or declare primary_key = [\"a\", \"b\"] for a key over several columns",
            );
            ok = false;
        }
        let mut indexes = Vec::new();
        for (i, raw_index) in raw.indexes.iter().enumerate() {
            let ikey = format!("{key}.indexes[{i}]");
            if let Some(index) = self.index(
                &name,
                &raw_index.columns,
                raw_index.name.as_ref(),
                raw_index.unique,
                &ikey,
            ) {
                for c in &index.columns {
                    if !seen.contains(c) {
                        self.problem(
                            raw_index.columns.span(),
                            &format!("{ikey}.columns"),
                            format!("{c:?} is not a column of {name}"),
                            "index columns declared in columns",
                        );
                        ok = false;
                    }
                }
                indexes.push(index);
            } else {
                ok = false;
            }
        }
        // A foreign key to the table itself (a tree) must point at a key of it.
        for c in &columns {
            if let Some(r) = c.references.as_ref().filter(|r| r.table == name) {
                let target = columns.iter().find(|t| t.name == r.column);
                let is_key = target.is_some_and(Column::is_key)
                    || (primary_key.len() == 1 && primary_key[0] == r.column);
                if !is_key {
                    self.problems.push(Problem::at(
                        r.at.clone(),
                        format!(
                            "{}: {}.{} is not a key or unique column of {name}",
                            r.key, r.table, r.column
                        ),
                        "point at the table's id or a unique column",
                    ));
                    ok = false;
                }
            }
        }
        ok.then_some(TableSpec {
            at: self.at(raw.name.span()),
            name,
            columns,
            primary_key,
            indexes,
        })
    }
}
