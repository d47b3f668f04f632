//! Which tables a context owns: the responsibility matrix of `estate tables`, the Modules view
//! and `estate modules --json`. Read from the migrations in version order: a blueprint says
//! what it creates; from SQL, the generic up file is read ([`sql`]) for CREATE / DROP / ALTER
//! TABLE … RENAME TO and CREATE / DROP INDEX, so a table created by one migration and dropped
//! by a later one is not owned any more.

mod sql;

use std::collections::{BTreeMap, BTreeSet};

use sql::{Token, qualified_name, skip};

use crate::sql::Engine;

use super::blueprint::{AddColumn, AddIndex};
use super::blueprint::{Blueprint, ColumnType, TableSpec};
use super::{Context, Migration, MigrationSet, Scope};

/// A table a context's migrations leave behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnedTable {
    pub name: String,
    /// The migration that created it (or renamed it to this name).
    pub version: i64,
    pub file: String,
    /// Declared by a blueprint (else read from SQL).
    pub blueprint: bool,
    /// Its columns, when blueprints alone shaped it; SQL is not parsed that far, so an SQL
    /// ALTER TABLE makes them unknown again.
    #[serde(skip)]
    pub columns: Option<Vec<KnownColumn>>,
    /// The indexes made on it by name (from blueprints and SQL's CREATE INDEX): index names
    /// share one namespace per database, or per schema on PostgreSQL.
    #[serde(skip)]
    pub indexes: Vec<String>,
    /// A SQLite STRICT table, which takes only its own few column types.
    #[serde(skip)]
    pub strict: bool,
}

/// A column a blueprint declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownColumn {
    pub name: String,
    pub ty: ColumnType,
    /// A key or unique: a foreign key may point at it.
    pub key: bool,
}

impl OwnedTable {
    pub fn column(&self, name: &str) -> Option<Option<&KnownColumn>> {
        let columns = self.columns.as_ref()?;
        Some(columns.iter().find(|c| c.name == name))
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

/// The tables a set's up migrations up to `version` leave behind: what a database that
/// applied them must hold (`estate adopt`).
pub fn tables_up_to(set: &MigrationSet, version: i64) -> Vec<OwnedTable> {
    let mut tables = Vec::new();
    for m in set.migrations.iter().filter(|m| m.version <= version) {
        apply(m, &mut tables);
    }
    tables
}

/// Adds what one migration does to `tables`.
pub fn apply(m: &Migration, tables: &mut Vec<OwnedTable>) {
    match &m.blueprint {
        Some(b) => apply_blueprint(m, b, tables),
        None => {
            // The generic file, read as the embedded default reads it; else an engine's own.
            let file = m.ups.get_key_value(&None).or_else(|| m.ups.iter().next());
            if let Some((engine, file)) = file {
                let source = m.file_name();
                apply_sql(
                    m.version,
                    &source,
                    &file.sql,
                    engine.unwrap_or_default(),
                    tables,
                );
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
                .map(|c| KnownColumn {
                    name: c.name.clone(),
                    ty: c.ty,
                    key: c.is_key()
                        || single_key == Some(&c.name)
                        || t.indexes
                            .iter()
                            .any(|i| i.unique && i.columns == [c.name.clone()]),
                })
                .collect(),
        ),
        indexes: t.indexes.iter().map(|i| i.name.clone()).collect(),
        strict: false,
    }
}

/// What one blueprint alteration does to the tables as known.
pub fn add_column(tables: &mut [OwnedTable], a: &AddColumn) {
    if let Some(t) = tables.iter_mut().find(|t| t.name == a.table) {
        if let Some(columns) = t.columns.as_mut() {
            columns.push(KnownColumn {
                name: a.column.name.clone(),
                ty: a.column.ty,
                key: a.column.unique,
            });
        }
        t.indexes.extend(a.unique_index().map(|i| i.name));
    }
}

pub fn add_index(tables: &mut [OwnedTable], a: &AddIndex) {
    if let Some(t) = tables.iter_mut().find(|t| t.name == a.table) {
        if a.index.unique
            && let ([only], Some(columns)) = (a.index.columns.as_slice(), t.columns.as_mut())
        {
            for c in columns.iter_mut().filter(|c| c.name == *only) {
                c.key = true;
            }
        }
        t.indexes.push(a.index.name.clone());
    }
}

fn apply_blueprint(m: &Migration, b: &Blueprint, tables: &mut Vec<OwnedTable>) {
    for t in &b.create_tables {
        tables.push(created(m, t));
    }
    for a in &b.add_columns {
        add_column(tables, a);
    }
    for a in &b.add_indexes {
        add_index(tables, a);
    }
}

/// The tables a migrator's up scripts leave behind, for a migrator that is not a folder of
/// files (a Rust one, which hands its SQL over): `(version, source, sql)` in the order they run.
pub fn left_by_scripts<'a>(
    scripts: impl IntoIterator<Item = (i64, &'a str, &'a str)>,
    engine: Engine,
) -> Vec<String> {
    let mut tables = Vec::new();
    for (version, source, sql) in scripts {
        apply_sql(version, source, sql, engine, &mut tables);
    }
    tables.into_iter().map(|t| t.name).collect()
}

/// The tables reverting the migrations `reverted` drops: those the up scripts up to the newest
/// reverted one leave behind and the scripts below it that stay do not (a table made by a kept
/// migration and altered by a reverted one stays). `scripts` are every known migration's
/// `(version, source, up sql)`, in the order they run.
pub fn dropped_by_reverting<'a>(
    scripts: &[(i64, &'a str, &'a str)],
    reverted: &BTreeSet<i64>,
    engine: Engine,
) -> Vec<String> {
    let Some(newest) = reverted.last() else {
        return Vec::new();
    };
    let upto = scripts.iter().filter(|(v, _, _)| v <= newest);
    let before = left_by_scripts(upto.clone().copied(), engine);
    let kept = left_by_scripts(
        upto.filter(|(v, _, _)| !reverted.contains(v)).copied(),
        engine,
    );
    before.into_iter().filter(|t| !kept.contains(t)).collect()
}

fn apply_sql(version: i64, source: &str, sql: &str, engine: Engine, tables: &mut Vec<OwnedTable>) {
    for t in sql::statements(sql, engine) {
        let is = |i: usize, kw: &str| t.get(i).is_some_and(|t| t.is(kw));
        // Every name of a comma-separated list from `i`.
        let names = |mut i: usize| {
            let mut names = Vec::new();
            while let Some((name, next)) = qualified_name(&t, i) {
                names.push(name);
                if t.get(next) != Some(&Token::Punct(',')) {
                    break;
                }
                i = next + 1;
            }
            names
        };
        if is(0, "create") {
            // CREATE [UNLOGGED | VIRTUAL] TABLE, but never TEMP ones: they do not outlive the
            // migration's session.
            let at = skip(&t, 1, &["unlogged"]);
            let at = skip(&t, at, &["virtual"]);
            if is(at, "table") {
                let at = skip(&t, at + 1, &["if", "not", "exists"]);
                if let Some((table, _)) = qualified_name(&t, at)
                    && !tables.iter().any(|o| o.name == table)
                {
                    // SQLite's STRICT comes after the closing parenthesis.
                    let close = t.iter().rposition(|x| *x == Token::Punct(')'));
                    let strict = close.is_some_and(|c| t[c..].iter().any(|x| x.is("strict")));
                    tables.push(OwnedTable {
                        name: table,
                        version,
                        file: source.to_string(),
                        blueprint: false,
                        columns: None,
                        indexes: Vec::new(),
                        strict,
                    });
                }
                continue;
            }
            let unique = is(1, "unique");
            let at = if unique { 2 } else { 1 };
            if is(at, "index") {
                let at = skip(&t, at + 1, &["concurrently", "if", "not", "exists"]);
                let Some((index, next)) = qualified_name(&t, at) else {
                    continue;
                };
                if !is(next, "on") {
                    continue;
                }
                let at = skip(&t, next + 1, &["only"]);
                if let Some((table, _)) = qualified_name(&t, at)
                    && let Some(o) = tables.iter_mut().find(|o| o.name == table)
                {
                    o.indexes.push(index);
                    // A unique index may make a column a key: no longer known.
                    if unique {
                        o.columns = None;
                    }
                }
            }
        } else if is(0, "drop") && is(1, "table") {
            let gone = names(skip(&t, 2, &["if", "exists"]));
            tables.retain(|o| !gone.contains(&o.name));
        } else if is(0, "drop") && is(1, "index") {
            let gone = names(skip(&t, 2, &["concurrently", "if", "exists"]));
            for o in tables.iter_mut() {
                o.indexes.retain(|i| !gone.contains(i));
            }
        } else if is(0, "alter") && is(1, "table") {
            let at = skip(&t, 2, &["if", "exists", "only"]);
            let Some((from, next)) = qualified_name(&t, at) else {
                continue;
            };
            let renamed_to = (is(next, "rename") && is(next + 1, "to"))
                .then(|| qualified_name(&t, next + 2).map(|(to, _)| to))
                .flatten();
            for o in tables.iter_mut().filter(|o| o.name == from) {
                match &renamed_to {
                    Some(to) => {
                        o.name = to.clone();
                        o.version = version;
                        o.file = source.to_string();
                    }
                    // Columns added, dropped or renamed by hand: no longer known.
                    None => o.columns = None,
                }
            }
        }
    }
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
    /// The map of `contexts`, read once when the catalog loads (`Catalog::tables`).
    pub fn of(contexts: &BTreeMap<String, Context>) -> TableMap {
        let mut map = TableMap::default();
        let mut claims: BTreeMap<(Scope, String), Vec<String>> = BTreeMap::new();
        for (name, context) in contexts {
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

    /// The contexts that own `table` in `scope`, with the table.
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

    /// The names of the tables `context` owns in `scope`, in the order they were created.
    pub fn names(&self, context: &str, scope: Scope) -> Vec<String> {
        self.ownership
            .iter()
            .filter(|o| o.context == context && o.scope == scope)
            .flat_map(|o| o.tables.iter().map(|t| t.name.clone()))
            .collect()
    }

    /// Whether more than one context creates `table` in `scope`.
    pub fn claimed_twice(&self, scope: Scope, table: &str) -> bool {
        self.conflicts
            .iter()
            .any(|c| c.scope == scope && c.table == table)
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
            "-- CREATE TABLE not_this (x INT);\nCREATE TABLE Users(id INT);\nCREATE TABLE IF NOT EXISTS \"teams\" (id INT);\nCREATE INDEX i ON users (id);\nCREATE UNIQUE INDEX IF NOT EXISTS j ON public.teams (id)",
            "create table scratch (x int); ALTER TABLE teams RENAME TO groups; DROP INDEX i",
            "DROP TABLE IF EXISTS scratch;",
        ]);
        let owned = owned_tables(&s);
        let names: Vec<&str> = owned.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["users", "groups"]);
        assert_eq!(owned[1].version, 2);
        assert_eq!(owned[0].indexes, Vec::<String>::new());
        assert_eq!(owned[1].indexes, ["j"]);
    }

    #[test]
    fn reverting_drops_what_the_reverted_migrations_left() {
        let scripts = [
            (1, "1.up.sql", "CREATE TABLE kept (id INT);"),
            (
                2,
                "2.up.sql",
                "CREATE TABLE made (id INT); ALTER TABLE kept ADD x INT;",
            ),
            (
                3,
                "3.up.sql",
                "CREATE TABLE gone (id INT); DROP TABLE gone; CREATE TABLE last (id INT);",
            ),
            (4, "4.up.sql", "CREATE TABLE not_applied (id INT);"),
        ];
        let reverted = BTreeSet::from([2, 3]);
        assert_eq!(
            dropped_by_reverting(&scripts, &reverted, Engine::Sqlite),
            ["made", "last"]
        );
        let all = BTreeSet::from([1, 2, 3]);
        assert_eq!(
            dropped_by_reverting(&scripts, &all, Engine::Sqlite),
            ["kept", "made", "last"]
        );
        assert!(dropped_by_reverting(&scripts, &BTreeSet::new(), Engine::Sqlite).is_empty());
    }
}
