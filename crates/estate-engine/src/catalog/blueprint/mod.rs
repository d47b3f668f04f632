//! Blueprint migrations: a `<version>_<description>.toml` file in a migration set that says
//! *what* tables a context needs (portable column types, nullability, defaults, keys, indexes,
//! foreign keys) and the alterations it makes (add a column, add an index). estate decides *how*
//! per engine ([`render`]) and derives the down migration, so one file serves SQLite and
//! PostgreSQL alike.
//!
//! Parsing checks everything that can be checked inside the file, naming the key and its line;
//! what needs the other contexts (whose table a foreign key points at) is checked by
//! [`check_references`] once the whole catalog is loaded.

mod references;
pub mod render;
mod types;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

pub use references::check_references;
pub use types::{ColumnType, DefaultValue, OnDelete, TYPE_NAMES};

use super::Problem;
use crate::problem::located;

/// PostgreSQL truncates longer identifiers, which would make two names one.
const MAX_IDENTIFIER: usize = 63;

/// A parsed, checked blueprint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Blueprint {
    pub create_tables: Vec<TableSpec>,
    pub add_columns: Vec<AddColumn>,
    pub add_indexes: Vec<AddIndex>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableSpec {
    pub name: String,
    /// `file:line:column` of its `name`, for problems found later.
    #[serde(skip)]
    pub at: String,
    pub columns: Vec<Column>,
    /// A key over several columns; empty when a column is the key (or there is none).
    pub primary_key: Vec<String>,
    pub indexes: Vec<Index>,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub unique: bool,
    /// The column alone is the table's key (always true for an `id`).
    pub primary_key: bool,
    pub references: Option<Reference>,
}

impl Column {
    /// Whether a foreign key may point at this column: it is a key or unique.
    pub fn is_key(&self) -> bool {
        self.primary_key || self.unique
    }
}

/// A foreign key: `references = "table.column"`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reference {
    pub table: String,
    pub column: String,
    pub on_delete: Option<OnDelete>,
    /// `file:line:column` of the `references` key, for messages found later.
    #[serde(skip)]
    pub at: String,
    /// The key, e.g. `create_table[0].columns[2].references`.
    #[serde(skip)]
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// `file:line:column` of its name (or columns), for problems found later.
    #[serde(skip)]
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddColumn {
    pub table: String,
    pub column: Column,
    /// `file:line:column` of the `table` key and the key itself.
    #[serde(skip)]
    pub at: String,
    #[serde(skip)]
    pub key: String,
}

impl AddColumn {
    /// The index that makes an added `unique` column unique: engines cannot add a column with
    /// a UNIQUE constraint to a table that has rows (SQLite at all), an index they can.
    pub fn unique_index(&self) -> Option<Index> {
        self.column.unique.then(|| Index {
            name: format!("{}_{}_key", self.table, self.column.name),
            columns: vec![self.column.name.clone()],
            unique: true,
            at: self.at.clone(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddIndex {
    pub table: String,
    pub index: Index,
    #[serde(skip)]
    pub at: String,
    #[serde(skip)]
    pub key: String,
}

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
struct RawTable {
    name: Spanned<String>,
    columns: Spanned<Vec<RawColumn>>,
    #[serde(default)]
    primary_key: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    indexes: Vec<RawIndex>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: Spanned<String>,
    #[serde(default)]
    nullable: Option<Spanned<bool>>,
    #[serde(default)]
    default: Option<Spanned<toml::Value>>,
    #[serde(default)]
    unique: Option<Spanned<bool>>,
    #[serde(default)]
    primary_key: Option<Spanned<bool>>,
    #[serde(default)]
    references: Option<Spanned<String>>,
    #[serde(default)]
    on_delete: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    columns: Spanned<Vec<String>>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddColumn {
    table: Spanned<String>,
    column: Spanned<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddIndex {
    table: Spanned<String>,
    columns: Spanned<Vec<String>>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    name: Option<Spanned<String>>,
}

/// Table, column and index names: lowercase so they mean the same quoted or not, and short
/// enough that PostgreSQL keeps them whole.
pub fn is_valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= MAX_IDENTIFIER
}

/// Names an engine keeps for itself: SQLite's `sqlite_` objects, estate's `estate_` tables
/// (the ledger, the registry), PostgreSQL's system columns.
fn reserved(name: &str, column: bool) -> Option<&'static str> {
    const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];
    if name.starts_with("sqlite_") {
        Some("SQLite keeps names starting with sqlite_ for itself")
    } else if column && SYSTEM_COLUMNS.contains(&name) {
        Some("PostgreSQL has a system column of that name in every table")
    } else if !column && name.starts_with("estate_") {
        Some("estate keeps names starting with estate_ for its ledger and registry")
    } else {
        None
    }
}

const IDENTIFIER_FIX: &str =
    "use lowercase letters, digits and _, starting with a letter or _, at most 63 characters";

/// Collects the problems of one file, each at its key's line.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
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
    fn identifier(&mut self, name: &Spanned<String>, key: &str, column: bool) -> bool {
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

    fn column(&mut self, raw: &RawColumn, key: &str, added: bool) -> Option<Column> {
        let mut ok = self.identifier(&raw.name, &format!("{key}.name"), true);
        let ty = match ColumnType::parse(raw.ty.get_ref()) {
            Ok(ty) => Some(ty),
            Err(message) => {
                self.problem(
                    raw.ty.span(),
                    &format!("{key}.type"),
                    message,
                    format!("use one of: {TYPE_NAMES}"),
                );
                None
            }
        };
        let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|f| *f.get_ref());
        let nullable = flag(&raw.nullable);
        let unique = flag(&raw.unique);
        let mut primary_key = flag(&raw.primary_key);
        let ty = ty?;
        if ty == ColumnType::Id {
            primary_key = true;
            if added {
                self.problem(
                    raw.ty.span(),
                    &format!("{key}.type"),
                    "an id column cannot be added to an existing table",
                    "add a bigint column instead, or create the table with its id",
                );
                ok = false;
            }
            if let Some(n) = raw.nullable.as_ref().filter(|n| *n.get_ref()) {
                self.problem(
                    n.span(),
                    &format!("{key}.nullable"),
                    "an id column is never null",
                    "remove nullable",
                );
                ok = false;
            }
        }
        if primary_key && nullable && ty != ColumnType::Id {
            let span = raw.nullable.as_ref().map_or(raw.name.span(), Spanned::span);
            self.problem(
                span,
                &format!("{key}.nullable"),
                "a primary key column is never null",
                "remove nullable or primary_key",
            );
            ok = false;
        }
        if added && let Some(p) = raw.primary_key.as_ref().filter(|p| *p.get_ref()) {
            self.problem(
                p.span(),
                &format!("{key}.primary_key"),
                "a primary key cannot be added to an existing table",
                "create the table with its key",
            );
            ok = false;
        }
        let default = match &raw.default {
            None => None,
            Some(value) => match DefaultValue::parse(value.get_ref(), ty) {
                Ok(d) => Some(d),
                Err(message) => {
                    self.problem(
                        value.span(),
                        &format!("{key}.default"),
                        message,
                        "change the default or remove it",
                    );
                    ok = false;
                    None
                }
            },
        };
        let on_delete = match &raw.on_delete {
            None => None,
            Some(text) => match OnDelete::parse(text.get_ref()) {
                Some(action) => Some(action),
                None => {
                    self.problem(
                        text.span(),
                        &format!("{key}.on_delete"),
                        format!("{:?} is not an action", text.get_ref()),
                        "use one of: cascade, restrict, set null, no action",
                    );
                    ok = false;
                    None
                }
            },
        };
        let references = match &raw.references {
            None => {
                if let Some(text) = &raw.on_delete {
                    self.problem(
                        text.span(),
                        &format!("{key}.on_delete"),
                        "on_delete without references",
                        "add references = \"table.column\" or remove on_delete",
                    );
                    ok = false;
                }
                None
            }
            Some(target) => {
                let rkey = format!("{key}.references");
                match target.get_ref().split_once('.') {
                    Some((table, column))
                        if is_valid_identifier(table) && is_valid_identifier(column) =>
                    {
                        Some(Reference {
                            table: table.to_string(),
                            column: column.to_string(),
                            on_delete,
                            at: self.at(target.span()),
                            key: rkey,
                        })
                    }
                    _ => {
                        self.problem(
                            target.span(),
                            &rkey,
                            format!("{:?} is not table.column", target.get_ref()),
                            "write references = \"table.column\", e.g. \"users.id\"",
                        );
                        ok = false;
                        None
                    }
                }
            }
        };
        if on_delete == Some(OnDelete::SetNull) && !nullable {
            let span = raw.on_delete.as_ref().map_or(0..0, Spanned::span);
            self.problem(
                span,
                &format!("{key}.on_delete"),
                "set null on a column that cannot be null",
                "make the column nullable = true, or choose another action",
            );
            ok = false;
        }
        if added {
            if !nullable && default.is_none() {
                self.problem(
                    raw.name.span(),
                    key,
                    "a column added to a table that may have rows needs a default or nullable = true",
                    "set a default, or nullable = true",
                );
                ok = false;
            }
            if default == Some(DefaultValue::Now) {
                self.problem(
                    raw.default.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.default"),
                    "SQLite cannot add a column whose default is the time of the insert to an existing table",
                    "add it nullable = true and fill it in a later migration, or create the table with it",
                );
                ok = false;
            }
            if unique && default.is_some() {
                self.problem(
                    raw.default.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.default"),
                    "a unique column added with a default gives every existing row the same value",
                    "add it nullable = true with no default, or drop unique",
                );
                ok = false;
            }
            if references.is_some() && (!nullable || default.is_some()) {
                self.problem(
                    raw.references.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.references"),
                    "a foreign key column added to an existing table must be nullable with no default (SQLite refuses any other)",
                    "set nullable = true and remove the default",
                );
                ok = false;
            }
        }
        ok.then(|| Column {
            name: raw.name.get_ref().clone(),
            ty,
            nullable,
            default,
            unique,
            primary_key,
            references,
        })
    }

    /// An index's columns and its name, given or made from the table and columns.
    fn index(
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

    fn table(&mut self, raw: &RawTable, key: &str) -> Option<TableSpec> {
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
        let mut checker = Checker {
            path,
            text,
            problems: Vec::new(),
        };
        let mut blueprint = Blueprint::default();
        let mut tables = BTreeSet::new();
        for (i, raw_table) in raw.create_table.iter().enumerate() {
            let key = format!("create_table[{i}]");
            if !tables.insert(raw_table.name.get_ref().clone()) {
                checker.problem(
                    raw_table.name.span(),
                    &format!("{key}.name"),
                    format!("table {:?} is created twice", raw_table.name.get_ref()),
                    "create each table once",
                );
                continue;
            }
            if let Some(table) = checker.table(raw_table, &key) {
                blueprint.create_tables.push(table);
            }
        }
        for (i, raw_add) in raw.add_column.iter().enumerate() {
            let key = format!("add_column[{i}]");
            let table_ok = checker.identifier(&raw_add.table, &format!("{key}.table"), false);
            let column = checker.column(raw_add.column.get_ref(), &format!("{key}.column"), true);
            if let (true, Some(column)) = (table_ok, column) {
                blueprint.add_columns.push(AddColumn {
                    table: raw_add.table.get_ref().clone(),
                    column,
                    at: checker.at(raw_add.table.span()),
                    key: format!("{key}.table"),
                });
            }
        }
        for (i, raw_add) in raw.add_index.iter().enumerate() {
            let key = format!("add_index[{i}]");
            if !checker.identifier(&raw_add.table, &format!("{key}.table"), false) {
                continue;
            }
            let table = raw_add.table.get_ref().clone();
            if let Some(index) = checker.index(
                &table,
                &raw_add.columns,
                raw_add.name.as_ref(),
                raw_add.unique,
                &key,
            ) {
                blueprint.add_indexes.push(AddIndex {
                    table,
                    index,
                    at: checker.at(raw_add.table.span()),
                    key: format!("{key}.table"),
                });
            }
        }
        for (i, a) in blueprint.add_columns.iter().enumerate() {
            if let Some(index) = a.unique_index().filter(|x| x.name.len() > MAX_IDENTIFIER) {
                checker.problems.push(Problem::at(
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
                checker.problems.push(Problem::at(
                    index.at.clone(),
                    format!("index name {:?} is used twice", index.name),
                    "give one of the indexes its own name = \"...\"",
                ));
            }
        }
        if checker.problems.is_empty() {
            Ok(blueprint)
        } else {
            Err(checker.problems)
        }
    }

    /// The tables this blueprint creates, in order.
    pub fn created(&self) -> impl Iterator<Item = &str> {
        self.create_tables.iter().map(|t| t.name.as_str())
    }

    /// Every foreign key it declares: the table it is on, and the reference.
    pub fn references(&self) -> impl Iterator<Item = (&str, &Reference)> {
        self.create_tables
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter_map(move |c| c.references.as_ref().map(|r| (t.name.as_str(), r)))
            })
            .chain(
                self.add_columns
                    .iter()
                    .filter_map(|a| a.column.references.as_ref().map(|r| (a.table.as_str(), r))),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Blueprint, Vec<String>> {
        Blueprint::parse(Path::new("b.toml"), text)
            .map_err(|ps| ps.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_table_with_every_kind_of_column() {
        let b = parse(
            r##"
[[create_table]]
name = "shares"
columns = [
  { name = "id", type = "id" },
  { name = "card_id", type = "bigint", references = "cards.id", on_delete = "cascade" },
  { name = "token", type = "uuid", unique = true },
  { name = "fee", type = "decimal(10,2)", default = "0.00" },
  { name = "note", type = "text", nullable = true },
]
indexes = [{ columns = ["card_id", "fee"] }]

[[add_column]]
table = "cards"
column = { name = "color", type = "string(7)", default = "#fff" }

[[add_index]]
table = "cards"
columns = ["color"]
unique = true
"##,
        )
        .unwrap();
        let t = &b.create_tables[0];
        assert!(t.column("id").unwrap().primary_key);
        assert_eq!(t.indexes[0].name, "shares_card_id_fee_idx");
        assert_eq!(
            t.column("card_id")
                .unwrap()
                .references
                .as_ref()
                .unwrap()
                .on_delete,
            Some(OnDelete::Cascade)
        );
        assert_eq!(b.add_indexes[0].index.name, "cards_color_idx");
        assert_eq!(b.references().count(), 1);
    }

    #[test]
    fn problems_name_the_key_and_line() {
        let e = parse(
            "[[create_table]]\nname = \"t\"\ncolumns = [\n  { name = \"a\", type = \"varchar(3)\" },\n]\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("b.toml:4:"), "{}", e[0]);
        assert!(e[0].contains("create_table[0].columns[0].type"), "{}", e[0]);
        assert!(e[0].contains("string(n)"), "{}", e[0]);

        let e = parse("[[create_table]]\nname = \"t\"\ncolums = []\n").unwrap_err();
        assert!(e[0].contains("colums"), "{e:?}");

        let e =
            parse("[[add_column]]\ntable = \"t\"\ncolumn = { name = \"c\", type = \"integer\" }\n")
                .unwrap_err();
        assert!(
            e[0].contains("add_column[0].column") && e[0].contains("default"),
            "{e:?}"
        );
    }

    #[test]
    fn what_cannot_be_rendered_is_refused() {
        for (text, key) in [
            (
                r#"[[create_table]]
name = "T"
columns = [{ name = "id", type = "id" }]"#,
                "create_table[0].name",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id" }, { name = "id", type = "text" }]"#,
                "columns[1].name",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id" }, { name = "x", type = "integer", primary_key = true }]"#,
                "create_table[0].columns",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id", nullable = true }]"#,
                "columns[0].nullable",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
indexes = [{ columns = ["b"] }]"#,
                "indexes[0].columns",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", on_delete = "cascade" }]"#,
                "columns[0].on_delete",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", references = "u.id", on_delete = "set null" }]"#,
                "columns[0].on_delete",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", references = "u" }]"#,
                "columns[0].references",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
primary_key = ["a", "b"]"#,
                "create_table[0].primary_key",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "p", type = "bigint", references = "t.p" }]"#,
                "columns[0].references",
            ),
            (
                r#"[[add_column]]
table = "t"
column = { name = "id", type = "id" }"#,
                "add_column[0].column.type",
            ),
            (
                r#"[[add_column]]
table = "t"
column = { name = "u", type = "bigint", references = "u.id", default = 1 }"#,
                "add_column[0].column.references",
            ),
            (
                r#"[[add_index]]
table = "t"
columns = []"#,
                "add_index[0].columns",
            ),
            (
                r#"[[create_table]]
name = "sqlite_stat9"
columns = [{ name = "id", type = "id" }]"#,
                "create_table[0].name",
            ),
            (
                r#"[[create_table]]
name = "estate_ledger"
columns = [{ name = "id", type = "id" }]"#,
                "create_table[0].name",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "xmin", type = "integer" }]"#,
                "columns[0].name",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
primary_key = ["a", "a"]"#,
                "create_table[0].primary_key",
            ),
            (
                r#"[[add_column]]
table = "t"
column = { name = "at", type = "timestamp", default = "now" }"#,
                "add_column[0].column.default",
            ),
            (
                r#"[[add_column]]
table = "t"
column = { name = "code", type = "text", unique = true, default = "x" }"#,
                "add_column[0].column.default",
            ),
            (
                r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "text", default = "a\u0000b" }]"#,
                "columns[0].default",
            ),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.iter().any(|p| p.contains(key)), "{key} not in {e:?}");
        }
    }

    #[test]
    fn an_empty_blueprint_is_an_empty_migration() {
        assert_eq!(parse("# nothing yet\n").unwrap(), Blueprint::default());
    }
}
