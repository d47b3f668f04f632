//! The commands for people who write contexts, none of which opens a database: `estate new`
//! (scaffolding), `estate graph` (the dependency graph as text, Graphviz dot or JSON) and
//! `estate tables` (the responsibility matrix).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::json;

use super::args::{GraphFormat, NewCommand, ScopeName};
use super::table::{Table, paint, styled};
use super::{EXIT_OK, colour, colour_err, print_json};
use crate::theme::theme;
use estate_engine::Result;
use estate_engine::{Catalog, Conflict, Scope, tree_prefixes};
use estate_engine::{Config, Error};
use estate_engine::{MigrationKind, scaffold};

/// The catalog as it is on disk; its problems are listed on stderr, not refused: the graph
/// and the map are how one finds what is wrong.
fn catalog(config: &Config) -> Result<Catalog> {
    config.require_contexts_folder()?;
    let catalog = Catalog::load(&config.contexts)?;
    if !catalog.problems.is_empty() {
        errln!(
            "warning: {} problem(s) in the contexts; `estate check` lists them",
            catalog.problems.len()
        );
    }
    Ok(catalog)
}

pub fn new(config: &Config, command: NewCommand) -> Result<u8> {
    if config.read_only {
        // Read-only means nothing is written: not the databases, not the contexts either.
        return Err(Error::refused(
            "read-only mode: `estate new` would write files in the contexts folder",
            "run without --read-only (and without read_only = true in the config or ESTATE_READ_ONLY)",
        ));
    }
    let (created, json) = match command {
        NewCommand::Context {
            name,
            requires,
            json,
        } => (
            scaffold::new_context(&config.contexts, &name, &requires)?,
            json,
        ),
        NewCommand::Migration {
            context,
            scope,
            name,
            blueprint,
            json,
        } => {
            let scope = match scope {
                ScopeName::Landlord => Scope::Landlord,
                ScopeName::Tenant => Scope::Tenant,
            };
            let kind = if blueprint {
                MigrationKind::Blueprint
            } else {
                MigrationKind::Sql
            };
            let created = scaffold::new_migration(
                &config.contexts,
                &context,
                scope,
                &name,
                kind,
                chrono::Utc::now(),
            )?;
            (created, json)
        }
    };
    if json {
        print_json(&json!({ "created": created }));
    } else {
        for path in &created {
            outln!("created {}", shown(path));
        }
    }
    Ok(EXIT_OK)
}

/// A path as the user would type it: relative to the working directory when under it.
fn shown(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let relative: PathBuf = path.strip_prefix(&cwd).unwrap_or(path).to_path_buf();
    let mut text = relative.display().to_string();
    if path.is_dir() {
        text.push('/');
    }
    text
}

pub fn graph(config: &Config, format: GraphFormat) -> Result<u8> {
    let catalog = catalog(config)?;
    match format {
        GraphFormat::Text => out!("{}", colour(graph_text(&catalog))),
        GraphFormat::Dot => out!("{}", graph_dot(&catalog)),
        GraphFormat::Json => {
            let nodes: Vec<_> = catalog
                .contexts
                .iter()
                .map(|(name, c)| {
                    json!({
                        "name": name,
                        "title": c.manifest.title,
                        "version": c.manifest.version,
                        "requires": c.manifest.requires,
                        "required_by": catalog.graph.required_by(name),
                        "missing": missing(&catalog, name),
                        "tables": Scope::ALL.iter().map(|s| catalog.tables.names(name, *s).len()).sum::<usize>(),
                    })
                })
                .collect();
            print_json(&json!({
                "contexts": nodes,
                "cycles": catalog.graph.cycles(),
                "install_order": install_order(&catalog),
            }));
        }
    }
    Ok(EXIT_OK)
}

/// What `name` requires that is no context.
fn missing(catalog: &Catalog, name: &str) -> Vec<String> {
    catalog.contexts[name]
        .manifest
        .requires
        .iter()
        .filter(|r| !catalog.contexts.contains_key(*r))
        .cloned()
        .collect()
}

/// Every context, dependencies first; `None` when a cycle makes that impossible.
fn install_order(catalog: &Catalog) -> Option<Vec<String>> {
    catalog.graph.cycles().is_empty().then(|| {
        catalog
            .graph
            .closure(catalog.contexts.keys().map(String::as_str))
    })
}

/// The edges that lie on a cycle, `(from, to)`.
fn cycle_edges(catalog: &Catalog) -> BTreeSet<(String, String)> {
    catalog
        .graph
        .cycles()
        .iter()
        .flat_map(|c| {
            c.windows(2)
                .map(|w| (w[0].clone(), w[1].clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn graph_text(catalog: &Catalog) -> String {
    if catalog.contexts.is_empty() {
        return "no contexts found\n".to_string();
    }
    let mut out = String::new();
    let cycles = catalog.graph.cycles();
    for cycle in &cycles {
        out.push_str(&format!(
            "{} dependency cycle: {}  (fix: remove one of these requires)\n",
            paint(theme().failed, "⚠"),
            cycle.join(" -> ")
        ));
    }
    match install_order(catalog) {
        Some(order) => out.push_str(&format!(
            "{} {}\n",
            paint(theme().header, "install order:"),
            order.join(", ")
        )),
        None => out.push_str("install order: none while there is a cycle\n"),
    }
    out.push_str(&paint(
        theme().dim,
        "\neach context above the ones that require it (^: shown above)\n",
    ));
    let tree = catalog.graph.tree();
    for (prefix, line) in tree_prefixes(&tree).iter().zip(&tree) {
        let note = if line.repeated {
            paint(theme().dim, " ^")
        } else {
            String::new()
        };
        out.push_str(&format!("  {prefix}{}{note}\n", line.name));
    }
    let on_cycle = cycle_edges(catalog);
    let mut table = Table::new(["CONTEXT", "TITLE", "REQUIRES", "REQUIRED BY"]);
    for (name, c) in &catalog.contexts {
        let requires: Vec<String> = c
            .manifest
            .requires
            .iter()
            .map(|r| {
                if !catalog.contexts.contains_key(r) {
                    format!("{r} (no such context)")
                } else if on_cycle.contains(&(name.clone(), r.clone())) {
                    format!("{r} (cycle)")
                } else {
                    r.clone()
                }
            })
            .collect();
        let required_by = catalog.graph.required_by(name).join(", ");
        table.row(vec![
            styled(theme().header, name.clone()),
            format!("{} {}", c.manifest.title, c.manifest.version).into(),
            dash(requires.join(", ")),
            dash(required_by),
        ]);
    }
    out.push('\n');
    out.push_str(&table.render());
    out
}

fn dash(text: String) -> super::table::Cell {
    if text.is_empty() {
        styled(theme().dim, "-")
    } else {
        text.into()
    }
}

/// A Graphviz string: quotes and backslashes escaped, control characters dropped.
fn dot_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The graph in Graphviz's language: an arrow from each context to what it requires, cycles
/// in red, requirements that name no context dashed.
pub fn graph_dot(catalog: &Catalog) -> String {
    let on_cycle = cycle_edges(catalog);
    let mut out = String::from(
        "digraph estate {\n  rankdir=BT;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for (name, c) in &catalog.contexts {
        let tables: usize = Scope::ALL
            .iter()
            .map(|s| catalog.tables.names(name, *s).len())
            .sum();
        let label = format!(
            "{name}\n{} {}\n{tables} table(s)",
            c.manifest.title, c.manifest.version
        );
        out.push_str(&format!(
            "  {} [label={}];\n",
            dot_string(name),
            dot_string(&label)
        ));
    }
    for (name, c) in &catalog.contexts {
        for r in &c.manifest.requires {
            let style = if !catalog.contexts.contains_key(r) {
                " [style=dashed, color=gray, label=\"missing\"]"
            } else if on_cycle.contains(&(name.clone(), r.clone())) {
                " [color=red, penwidth=2, label=\"cycle\"]"
            } else {
                ""
            };
            if !catalog.contexts.contains_key(r) {
                out.push_str(&format!(
                    "  {} [style=\"rounded,dashed\", color=gray];\n",
                    dot_string(r)
                ));
            }
            out.push_str(&format!(
                "  {} -> {}{style};\n",
                dot_string(name),
                dot_string(r)
            ));
        }
    }
    out.push_str("}\n");
    out
}

pub fn tables(config: &Config, json: bool) -> Result<u8> {
    let catalog = catalog(config)?;
    let map = &catalog.tables;
    if json {
        print_json(&map);
        return Ok(EXIT_OK);
    }
    let mut table = Table::new(["CONTEXT", "SCOPE", "TABLE", "CREATED BY"]);
    for o in &map.ownership {
        for t in &o.tables {
            let name = if map.claimed_twice(o.scope, &t.name) {
                styled(theme().failed, format!("{} ⚠", t.name))
            } else {
                t.name.clone().into()
            };
            let by = if t.blueprint {
                format!("{} (blueprint)", t.file)
            } else {
                t.file.clone()
            };
            table.row(vec![
                styled(theme().header, o.context.clone()),
                o.scope.as_str().into(),
                name,
                by.into(),
            ]);
        }
    }
    if table.is_empty() {
        outln!("no context creates a table");
    } else {
        out!("{}", colour(table.render()));
    }
    warn_conflicts(&map.conflicts);
    Ok(EXIT_OK)
}

/// A warning on stderr for each table two contexts create: not refused (it may be meant, a
/// shared lookup table), but the rollback of one would drop the other's.
pub fn warn_conflicts(conflicts: &[Conflict]) {
    for c in conflicts {
        err!(
            "{}",
            colour_err(format!(
                "{} {} table {} is created by {}: each table should have one owner (a rollback of one drops it for the other)\n",
                paint(theme().failed, "warning:"),
                c.scope,
                c.table,
                c.contexts.join(" and ")
            ))
        );
    }
}
