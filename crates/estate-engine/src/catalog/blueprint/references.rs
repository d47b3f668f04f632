//! The checks of a blueprint that need the rest of the catalog: a foreign key points at a table
//! that exists by then, in the same scope, owned by this context or by one it `requires` (so the
//! dependency graph stays honest and the table is there when the migration runs), at a key
//! column of a compatible type; an alteration touches only the context's own tables; a table
//! or an index is not created twice.

use super::types::article;
use super::{Blueprint, ColumnType, Reference};
use crate::catalog::tables::{self, OwnedTable, TableMap};
use crate::catalog::{Catalog, Context, Migration, Problem, Scope};

/// Every problem of every blueprint's references in `catalog`.
pub fn check_references(catalog: &Catalog) -> Vec<Problem> {
    let map = &catalog.tables;
    let mut problems = Vec::new();
    for context in catalog.contexts.values() {
        for (scope, set) in &context.sets {
            // The context's own tables as each migration finds them.
            let mut own: Vec<OwnedTable> = Vec::new();
            for m in &set.migrations {
                if let Some(b) = &m.blueprint {
                    let mut check = Check {
                        catalog,
                        map,
                        context,
                        scope: *scope,
                        seen: own.clone(),
                        problems: &mut problems,
                    };
                    check.blueprint(m, b);
                }
                tables::apply(m, &mut own);
            }
        }
    }
    problems
}

/// One blueprint being checked, with the tables as it finds them.
struct Check<'a> {
    catalog: &'a Catalog,
    map: &'a TableMap,
    context: &'a Context,
    scope: Scope,
    /// This context's tables so far, including those created above in the same file.
    seen: Vec<OwnedTable>,
    problems: &'a mut Vec<Problem>,
}

impl Check<'_> {
    fn problem(&mut self, at: &str, key: &str, message: String, fix: impl Into<String>) {
        self.problems.push(Problem::at(
            at.to_string(),
            format!("{key}: {message}"),
            fix,
        ));
    }

    fn blueprint(&mut self, m: &Migration, b: &Blueprint) {
        for (i, t) in b.create_tables.iter().enumerate() {
            let key = format!("create_table[{i}].name");
            if let Some(earlier) = self.seen.iter().find(|s| s.name == t.name) {
                let message = format!(
                    "{} is already created by {} of {}",
                    t.name,
                    earlier.file,
                    self.context.name()
                );
                self.problem(
                    &t.at,
                    &key,
                    message,
                    "alter it with [[add_column]] / [[add_index]], or name the new table otherwise",
                );
            }
            for index in &t.indexes {
                self.index_name(
                    &index.name,
                    &index.at,
                    &format!("create_table[{i}].indexes"),
                );
            }
            // A table may point at itself or at one created above it.
            self.seen.push(tables::created(m, t));
            for c in &t.columns {
                if let Some(r) = &c.references {
                    self.reference(r, c.ty);
                }
            }
        }
        for a in &b.add_columns {
            if self.own_table(&a.table, &a.at, &a.key) {
                if self.seen.iter().any(|t| t.name == a.table && t.strict) {
                    let message = format!(
                        "{} is a SQLite STRICT table, which takes only INT, INTEGER, REAL, TEXT, BLOB and ANY columns",
                        a.table
                    );
                    self.problem(
                        &a.at,
                        &a.key,
                        message,
                        "add the column with SQL migrations for each engine",
                    );
                }
                let exists = self
                    .seen
                    .iter()
                    .find(|t| t.name == a.table)
                    .and_then(|t| t.column(&a.column.name));
                if exists.is_some_and(|c| c.is_some()) {
                    let message = format!("{} already has a column {:?}", a.table, a.column.name);
                    self.problem(&a.at, &a.key, message, "give the new column another name");
                }
                if let Some(index) = a.unique_index() {
                    self.index_name(&index.name, &a.at, &a.key);
                }
            }
            if let Some(r) = &a.column.references {
                self.reference(r, a.column.ty);
            }
            tables::add_column(&mut self.seen, a);
        }
        for a in &b.add_indexes {
            if !self.own_table(&a.table, &a.at, &a.key) {
                continue;
            }
            self.index_name(&a.index.name, &a.index.at, &a.key);
            let table = self.seen.iter().find(|t| t.name == a.table);
            let missing: Vec<&String> = a
                .index
                .columns
                .iter()
                .filter(|c| table.and_then(|t| t.column(c)).is_some_and(|c| c.is_none()))
                .collect();
            for c in missing {
                let message = format!("{} has no column {c:?} to index", a.table);
                self.problem(&a.at, &a.key, message, "index columns the table has");
            }
            tables::add_index(&mut self.seen, a);
        }
    }

    /// An index name must be free in the scope's databases (per schema on PostgreSQL), where
    /// tables, indexes and the indexes PostgreSQL makes for keys (`t_pkey`, `t_c_key`) share
    /// one namespace: this context's so far, and every other context's.
    fn index_name(&mut self, name: &str, at: &str, key: &str) {
        let taken_in = |t: &OwnedTable| {
            t.name == name || t.indexes.iter().any(|i| i == name) || implicit(t).any(|i| i == name)
        };
        let mine = self
            .seen
            .iter()
            .find(|t| taken_in(t))
            .map(|t| t.file.clone());
        let theirs = self
            .map
            .ownership
            .iter()
            .filter(|o| o.scope == self.scope && o.context != self.context.name())
            .find(|o| o.tables.iter().any(taken_in))
            .map(|o| o.context.clone());
        let owner = match (mine, theirs) {
            (Some(file), _) => format!("{} ({file})", self.context.name()),
            (None, Some(other)) => other,
            (None, None) => return,
        };
        let message = format!(
            "the name {name:?} is already taken in the {} scope (a table or an index), by {owner}",
            self.scope
        );
        self.problem(at, key, message, "give the index another name = \"...\"");
    }

    /// An alteration's table must be one this context created before; `false` when it is not.
    fn own_table(&mut self, table: &str, at: &str, key: &str) -> bool {
        if self.seen.iter().any(|t| t.name == table) {
            return true;
        }
        let other = self
            .map
            .owners(self.scope, table)
            .map(|(owner, _)| owner.to_string())
            .find(|owner| owner != self.context.name());
        let (message, fix) = match other {
            Some(owner) => (
                format!("{table} belongs to context {owner}; a context alters only its own tables"),
                format!("ask for the change in {owner}'s migrations"),
            ),
            None => (
                format!(
                    "no earlier migration of {} creates {table} in the {} scope",
                    self.context.name(),
                    self.scope
                ),
                "create the table first (in an earlier migration or above in this file)"
                    .to_string(),
            ),
        };
        self.problem(at, key, message, fix);
        false
    }

    fn reference(&mut self, r: &Reference, ty: ColumnType) {
        let target = match self.seen.iter().find(|t| t.name == r.table) {
            Some(t) => t.clone(),
            None => {
                let owners: Vec<(String, OwnedTable)> = self
                    .map
                    .owners(self.scope, &r.table)
                    .filter(|(owner, _)| *owner != self.context.name())
                    .map(|(owner, t)| (owner.to_string(), t.clone()))
                    .collect();
                let required = self.catalog.graph.requires(self.context.name());
                match owners.iter().find(|(owner, _)| required.contains(owner)) {
                    Some((_, t)) => t.clone(),
                    None => {
                        let (message, fix) = match owners.first() {
                            Some((owner, _)) => (
                                format!(
                                    "{} belongs to context {owner}, which {} does not require",
                                    r.table,
                                    self.context.name()
                                ),
                                format!(
                                    "add \"{owner}\" to requires in {}/context.toml, so it is installed first",
                                    self.context.name()
                                ),
                            ),
                            None => (
                                format!("no context creates a table {} in the {} scope", r.table, self.scope),
                                "point at a table of this context created earlier, or of a context it requires (foreign keys stay within one scope)".to_string(),
                            ),
                        };
                        return self.problem(&r.at, &r.key, message, fix);
                    }
                }
            }
        };
        let fix = format!("point at a key or unique column of {}", r.table);
        match target.column(&r.column) {
            // Not declared by blueprints alone: the database will say.
            None => {}
            Some(None) => {
                let message = format!("{} has no column {:?}", r.table, r.column);
                self.problem(&r.at, &r.key, message, fix);
            }
            Some(Some(c)) if !c.key => {
                let message = format!("{}.{} is neither a key nor unique", r.table, r.column);
                self.problem(&r.at, &r.key, message, fix);
            }
            Some(Some(c)) if family(c.ty) != family(ty) => {
                let message = format!(
                    "{} {ty} column cannot point at {}.{}, {} {} column",
                    article(&ty.to_string()),
                    r.table,
                    r.column,
                    article(&c.ty.to_string()),
                    c.ty
                );
                let fix = format!("give the column {}", family_name(c.ty));
                self.problem(&r.at, &r.key, message, fix);
            }
            Some(Some(_)) => {}
        }
    }
}

/// The indexes PostgreSQL names itself for a blueprint table's keys.
fn implicit(t: &OwnedTable) -> impl Iterator<Item = String> + '_ {
    let keys = t.columns.iter().flatten().filter(|c| c.key);
    std::iter::once(format!("{}_pkey", t.name))
        .filter(|_| t.blueprint)
        .chain(keys.map(move |c| format!("{}_{}_key", t.name, c.name)))
}

fn family_name(ty: ColumnType) -> &'static str {
    match family(ty) {
        0 => "an integer type (id, integer, bigint)",
        1 => "a text type (text, string(n))",
        2 => "a decimal type",
        3 => "the type boolean",
        4 => "the type timestamp",
        5 => "the type json",
        _ => "the type uuid",
    }
}

/// Types a foreign key may join: PostgreSQL compares integers with integers and text with
/// text, whatever their width.
fn family(ty: ColumnType) -> u8 {
    match ty {
        ColumnType::Id | ColumnType::Integer | ColumnType::Bigint => 0,
        ColumnType::Text | ColumnType::String(_) => 1,
        ColumnType::Decimal(..) => 2,
        ColumnType::Boolean => 3,
        ColumnType::Timestamp => 4,
        ColumnType::Json => 5,
        ColumnType::Uuid => 6,
    }
}
