//! Which tables a context owns: the responsibility matrix of `estate tables`, the Modules view
//! and `estate modules --json`. Read from the migrations in version order: a blueprint says
//! what it creates; from SQL, the generic up file is read for CREATE / DROP / ALTER TABLE …
//! RENAME TO, so a table created by one migration and dropped by a later one is not owned
//! any more.

use std::collections::BTreeMap;

use super::blueprint::{Blueprint, TableSpec};
use super::{Catalog, Migration, MigrationSet, Scope};

/// A table a context's migrations leave behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnedTable {
    pub name: String,
    /// The migration that created it (or renamed it to this name).
    pub version: i64,
    pub file: String,
    /// Declared by a blueprint (else read from SQL).
    pub blueprint: bool,
    /// Its columns and whether each is a key or unique, when a blueprint declared them; SQL is
    /// not parsed that far.
    #[serde(skip)]
    pub columns: Option<Vec<(String, bool)>>,
}

impl OwnedTable {
    /// Whether a foreign key may point at `column`: `None` when the columns are not known.
    pub fn is_key(&self, column: &str) -> Option<bool> {
        let columns = self.columns.as_ref()?;
        Some(columns.iter().any(|(c, key)| c == column && *key))
    }

    pub fn has_column(&self, column: &str) -> Option<bool> {
        let columns = self.columns.as_ref()?;
        Some(columns.iter().any(|(c, _)| c == column))
    }
}

/// The tables a set's up migrations leave behind, in the order they were created.
pub fn owned_tables(set: &MigrationSet) -> Vec<OwnedTable> {
    let mut tables = Vec::new();
    for m in &set.migrations {
        apply(m, &mut tables);
    }
    tables
}

/// Adds what one migration does to `tables`.
pub fn apply(m: &Migration, tables: &mut Vec<OwnedTable>) {
    match &m.blueprint {
        Some(b) => apply_blueprint(m, b, tables),
        None => {
            if let Some(file) = m.ups.get(&None).or_else(|| m.ups.values().next()) {
                apply_sql(m, &file.sql, tables);
            }
        }
    }
}

/// A table a blueprint creates, as owned.
pub fn created(m: &Migration, t: &TableSpec) -> OwnedTable {
    let single_key = (t.primary_key.len() == 1).then(|| t.primary_key[0].as_str());
    OwnedTable {
        name: t.name.clone(),
        version: m.version,
        file: m.file_name(),
        blueprint: true,
        columns: Some(
            t.columns
                .iter()
                .map(|c| (c.name.clone(), c.is_key() || single_key == Some(&c.name)))
                .collect(),
        ),
    }
}

fn apply_blueprint(m: &Migration, b: &Blueprint, tables: &mut Vec<OwnedTable>) {
    for t in &b.create_tables {
        tables.push(created(m, t));
    }
    for a in &b.add_columns {
        if let Some(columns) = tables
            .iter_mut()
            .find(|t| t.name == a.table)
            .and_then(|t| t.columns.as_mut())
        {
            columns.push((a.column.name.clone(), a.column.unique));
        }
    }
    for a in b
        .add_indexes
        .iter()
        .filter(|a| a.index.unique && a.index.columns.len() == 1)
    {
        if let Some(columns) = tables
            .iter_mut()
            .find(|t| t.name == a.table)
            .and_then(|t| t.columns.as_mut())
        {
            for (c, key) in columns.iter_mut() {
                *key |= *c == a.index.columns[0];
            }
        }
    }
}

fn apply_sql(m: &Migration, sql: &str, tables: &mut Vec<OwnedTable>) {
    for statement in sql.split(';') {
        let words = words(statement);
        let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        let at = |i: usize| lower.get(i).map(String::as_str);
        let name_after = |i: usize| {
            // Skip IF [NOT] EXISTS.
            let i = if at(i) == Some("if") {
                i + if at(i + 1) == Some("not") { 3 } else { 2 }
            } else {
                i
            };
            words.get(i).map(|w| unquote(w))
        };
        match (at(0), at(1)) {
            (Some("create"), Some("table")) => {
                if let Some(name) = name_after(2)
                    && !tables.iter().any(|t| t.name == name)
                {
                    tables.push(OwnedTable {
                        name,
                        version: m.version,
                        file: m.file_name(),
                        blueprint: false,
                        columns: None,
                    });
                }
            }
            (Some("drop"), Some("table")) => {
                if let Some(name) = name_after(2) {
                    tables.retain(|t| t.name != name);
                }
            }
            (Some("alter"), Some("table")) if at(3) == Some("rename") && at(4) == Some("to") => {
                if let (Some(from), Some(to)) = (name_after(2), words.get(5)) {
                    let to = unquote(to);
                    for t in tables.iter_mut().filter(|t| t.name == from) {
                        t.name = to.clone();
                        t.version = m.version;
                        t.file = m.file_name();
                    }
                }
            }
            _ => {}
        }
    }
}

/// The words of a statement with `--` comments removed; `(` ends a word, so `users(` reads
/// as `users`.
fn words(statement: &str) -> Vec<String> {
    statement
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '('))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn unquote(word: &str) -> String {
    word.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_string()
}

/// One context's tables in one scope.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ownership {
    pub context: String,
    pub scope: Scope,
    pub tables: Vec<OwnedTable>,
}

/// A table that more than one context creates in the same scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    pub scope: Scope,
    pub table: String,
    pub contexts: Vec<String>,
}

/// The responsibility matrix: who owns which tables in which scope, and the tables claimed
/// twice.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TableMap {
    pub ownership: Vec<Ownership>,
    pub conflicts: Vec<Conflict>,
}

impl TableMap {
    pub fn of(catalog: &Catalog) -> TableMap {
        let mut map = TableMap::default();
        let mut claims: BTreeMap<(Scope, String), Vec<String>> = BTreeMap::new();
        for (name, context) in &catalog.contexts {
            for (scope, set) in &context.sets {
                let tables = owned_tables(set);
                for t in &tables {
                    claims
                        .entry((*scope, t.name.clone()))
                        .or_default()
                        .push(name.clone());
                }
                map.ownership.push(Ownership {
                    context: name.clone(),
                    scope: *scope,
                    tables,
                });
            }
        }
        map.conflicts = claims
            .into_iter()
            .filter(|(_, owners)| owners.len() > 1)
            .map(|((scope, table), contexts)| Conflict {
                scope,
                table,
                contexts,
            })
            .collect();
        map
    }

    /// The contexts other than `context` that own `table` in `scope`, with the table.
    pub fn owners<'a>(
        &'a self,
        scope: Scope,
        table: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a OwnedTable)> + 'a {
        self.ownership
            .iter()
            .filter(move |o| o.scope == scope)
            .flat_map(move |o| {
                o.tables
                    .iter()
                    .filter(move |t| t.name == table)
                    .map(move |t| (o.context.as_str(), t))
            })
    }

    /// Whether `context` shares a table with another context (for a warning beside it).
    pub fn conflicts_of<'a>(&'a self, context: &'a str) -> impl Iterator<Item = &'a Conflict> + 'a {
        self.conflicts
            .iter()
            .filter(move |c| c.contexts.iter().any(|n| n == context))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::SqlFile;

    fn set(ups: &[&str]) -> MigrationSet {
        MigrationSet {
            context: "x".into(),
            scope: Scope::Tenant,
            dir: "x".into(),
            migrations: ups
                .iter()
                .enumerate()
                .map(|(i, sql)| Migration {
                    version: i as i64 + 1,
                    description: "m".into(),
                    ups: BTreeMap::from([(
                        None,
                        SqlFile::new(format!("{i}.up.sql").into(), sql.to_string()),
                    )]),
                    downs: BTreeMap::new(),
                    blueprint: None,
                })
                .collect(),
        }
    }

    #[test]
    fn created_renamed_and_dropped_tables() {
        let s = set(&[
            "-- CREATE TABLE not_this (x INT);\nCREATE TABLE users(id INT);\nCREATE TABLE IF NOT EXISTS \"teams\" (id INT);\nCREATE INDEX i ON users (id);",
            "create table scratch (x int); ALTER TABLE teams RENAME TO groups;",
            "DROP TABLE IF EXISTS scratch;",
        ]);
        let names: Vec<String> = owned_tables(&s).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["users", "groups"]);
        assert_eq!(owned_tables(&s)[1].version, 2);
    }
}
