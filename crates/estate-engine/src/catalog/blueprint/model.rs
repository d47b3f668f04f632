//! The model of a blueprint: the tables it creates and the columns and indexes it adds, as
//! parsing leaves them once every check inside the file has passed. Rendering, the table map
//! and the reference checks read only this; the TOML shape stays behind in [`super::parse`].
//!
//! Each part keeps where it was written (`at`, and the key for a reference or an alteration),
//! because the checks that need the whole catalog run later, when the file's text is gone, and
//! must still name the line.

use super::{ColumnType, DefaultValue, OnDelete};

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

impl Blueprint {
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
