//! The checks of a blueprint that need the rest of the catalog: a foreign key points at a table
//! that exists by then, in the same scope, owned by this context or by one it `requires` (so the
//! dependency graph stays honest and the table is there when the migration runs); an
//! alteration touches only the context's own tables.

use super::{Blueprint, Reference};
use crate::catalog::tables::{self, OwnedTable, TableMap};
use crate::catalog::{Catalog, Context, Migration, Problem, Scope};

/// Every problem of every blueprint's references in `catalog`.
pub fn check_references(catalog: &Catalog) -> Vec<Problem> {
    let map = TableMap::of(catalog);
    let mut problems = Vec::new();
    for context in catalog.contexts.values() {
        for (scope, set) in &context.sets {
            // The context's own tables as each migration finds them.
            let mut own: Vec<OwnedTable> = Vec::new();
            for m in &set.migrations {
                if let Some(b) = &m.blueprint {
                    check_blueprint(catalog, &map, context, *scope, m, b, &own, &mut problems);
                }
                tables::apply(m, &mut own);
            }
        }
    }
    problems
}

#[allow(clippy::too_many_arguments)]
fn check_blueprint(
    catalog: &Catalog,
    map: &TableMap,
    context: &Context,
    scope: Scope,
    m: &Migration,
    b: &Blueprint,
    own: &[OwnedTable],
    problems: &mut Vec<Problem>,
) {
    // Tables of this file count from the point they are created: a table may point at itself
    // or at one created above it.
    let mut seen = own.to_vec();
    for t in &b.create_tables {
        seen.push(tables::created(m, t));
        for c in &t.columns {
            if let Some(r) = &c.references {
                check_reference(catalog, map, context, scope, r, &seen, problems);
            }
        }
    }
    for a in &b.add_columns {
        check_own_table(
            map, context, scope, &a.table, &a.at, &a.key, &seen, problems,
        );
        if let Some(r) = &a.column.references {
            check_reference(catalog, map, context, scope, r, &seen, problems);
        }
        if let Some(columns) = seen
            .iter_mut()
            .find(|t| t.name == a.table)
            .and_then(|t| t.columns.as_mut())
        {
            if columns.iter().any(|(c, _)| *c == a.column.name) {
                problems.push(Problem::at(
                    a.at.clone(),
                    format!(
                        "{}: {} already has a column {:?}",
                        a.key, a.table, a.column.name
                    ),
                    "give the new column another name",
                ));
            }
            columns.push((a.column.name.clone(), a.column.unique));
        }
    }
    for a in &b.add_indexes {
        if !check_own_table(
            map, context, scope, &a.table, &a.at, &a.key, &seen, problems,
        ) {
            continue;
        }
        let table = seen.iter().find(|t| t.name == a.table);
        for c in &a.index.columns {
            if table.and_then(|t| t.has_column(c)) == Some(false) {
                problems.push(Problem::at(
                    a.at.clone(),
                    format!("{}: {} has no column {c:?} to index", a.key, a.table),
                    "index columns the table has",
                ));
            }
        }
    }
}

/// An alteration's table must be one this context created before; `false` when it is not.
#[allow(clippy::too_many_arguments)]
fn check_own_table(
    map: &TableMap,
    context: &Context,
    scope: Scope,
    table: &str,
    at: &str,
    key: &str,
    seen: &[OwnedTable],
    problems: &mut Vec<Problem>,
) -> bool {
    if seen.iter().any(|t| t.name == table) {
        return true;
    }
    let others: Vec<&str> = map
        .owners(scope, table)
        .map(|(owner, _)| owner)
        .filter(|owner| *owner != context.name())
        .collect();
    let (message, fix) = if let Some(owner) = others.first() {
        (
            format!("{table} belongs to context {owner}; a context alters only its own tables"),
            format!("ask for the change in {owner}'s migrations"),
        )
    } else {
        (
            format!(
                "no earlier migration of {} creates {table} in the {scope} scope",
                context.name()
            ),
            "create the table first (in an earlier migration or above in this file)".to_string(),
        )
    };
    problems.push(Problem::at(
        at.to_string(),
        format!("{key}: {message}"),
        fix,
    ));
    false
}

fn check_reference(
    catalog: &Catalog,
    map: &TableMap,
    context: &Context,
    scope: Scope,
    r: &Reference,
    seen: &[OwnedTable],
    problems: &mut Vec<Problem>,
) {
    let mut problem = |message: String, fix: String| {
        problems.push(Problem::at(
            r.at.clone(),
            format!("{}: {message}", r.key),
            fix,
        ));
    };
    let target = match seen.iter().find(|t| t.name == r.table) {
        Some(t) => Some(t),
        None => {
            let owners: Vec<(&str, &OwnedTable)> = map
                .owners(scope, &r.table)
                .filter(|(owner, _)| *owner != context.name())
                .collect();
            let required = catalog.graph.requires(context.name());
            match owners
                .iter()
                .find(|(owner, _)| required.iter().any(|q| q == owner))
            {
                Some((_, t)) => Some(*t),
                None => {
                    match owners.first() {
                        Some((owner, _)) => problem(
                            format!(
                                "{} belongs to context {owner}, which {} does not require",
                                r.table,
                                context.name()
                            ),
                            format!(
                                "add \"{owner}\" to requires in {}/context.toml, so it is installed first",
                                context.name()
                            ),
                        ),
                        None => problem(
                            format!("no context creates a table {} in the {scope} scope", r.table),
                            "point at a table of this context created earlier, or of a context it requires (foreign keys stay within one scope)".into(),
                        ),
                    }
                    None
                }
            }
        }
    };
    let Some(target) = target else { return };
    match (target.has_column(&r.column), target.is_key(&r.column)) {
        (Some(false), _) => problem(
            format!("{} has no column {:?}", r.table, r.column),
            format!("point at a column of {}", r.table),
        ),
        (_, Some(false)) => problem(
            format!("{}.{} is neither a key nor unique", r.table, r.column),
            "point at the table's id or a unique column".into(),
        ),
        _ => {}
    }
}
