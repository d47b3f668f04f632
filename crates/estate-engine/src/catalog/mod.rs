//! The catalog: every context found under the contexts folder, read from disk at run time.
//!
//! A context is a folder with a `context.toml` manifest and, per scope, a migration set: files
//! in sqlx-cli's reversible convention, blueprints, or diesel-layout folders. Loading never stops at the first problem: every
//! problem found is collected so `estate check` can list them all at once. The catalog knows no
//! database; the registry reads it to plan.

pub mod blueprint;
mod command;
mod graph;
mod manifest;
mod migration_set;
pub mod scaffold;

mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::problem::Problem;
pub use command::resolve as resolve_program;
pub use graph::{DependencyGraph, TreeLine, tree_prefixes};
pub use manifest::{DEFAULT_COMMAND_TIMEOUT, Manifest, MigratorCommand, is_valid_context_name};
pub use migration_set::{
    Migration, MigrationSet, NO_TRANSACTION, SqlFile, checksum, folder_stem, is_no_transaction,
    parse_file_name,
};
pub use tables::{
    Conflict, OwnedTable, Ownership, TableMap, dropped_by_reverting, left_by_scripts, owned_tables,
    tables_up_to,
};

use crate::error::{Error, Result};

/// The name of the registry's own context, embedded in the binary; no folder may take it.
pub const REGISTRY_CONTEXT: &str = "module_registry";

/// Where a migration set applies: the one central database or each tenant's.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Landlord,
    Tenant,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Landlord, Scope::Tenant];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Landlord => "landlord",
            Scope::Tenant => "tenant",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "landlord" => Some(Scope::Landlord),
            "tenant" => Some(Scope::Tenant),
            _ => None,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One bounded context as found on disk.
#[derive(Debug, Clone)]
pub struct Context {
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// The migration set of each scope the context has; a missing scope folder means none.
    pub sets: BTreeMap<Scope, MigrationSet>,
}

impl Context {
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    pub fn set(&self, scope: Scope) -> Option<&MigrationSet> {
        self.sets.get(&scope)
    }
}

/// Every context under the contexts folders, the dependency graph, and the problems found.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The contexts folders, in the config's order.
    pub roots: Vec<PathBuf>,
    pub contexts: BTreeMap<String, Context>,
    pub graph: DependencyGraph,
    /// Who creates which tables, read once here for every reader (check, verify, the map).
    pub tables: TableMap,
    pub problems: Vec<Problem>,
}

impl Catalog {
    /// Discovers every context folder under `roots`, read as one catalog. Fails only when a
    /// root itself cannot be listed; problems inside contexts (a name found in two roots among
    /// them) are collected in [`Catalog::problems`].
    pub fn load(roots: &[PathBuf]) -> Result<Catalog> {
        let mut catalog = Catalog {
            roots: roots.to_vec(),
            ..Catalog::default()
        };
        for root in roots {
            for dir in context_folders(root)? {
                let Some(context) = load_context(&dir, &mut catalog.problems) else {
                    continue;
                };
                if let Some(first) = catalog.contexts.get(context.name()) {
                    catalog.problems.push(Problem::new(
                        &dir.join("context.toml"),
                        format!(
                            "context {} is also in {}: two folders cannot both be the same context",
                            context.name(),
                            first.dir.display()
                        ),
                        "keep one of the two folders, or rename one context (its folder and its context.toml's name)",
                    ));
                    continue;
                }
                catalog
                    .contexts
                    .insert(context.manifest.name.clone(), context);
            }
        }
        catalog.graph = DependencyGraph::build(&catalog.contexts, &mut catalog.problems);
        catalog.tables = TableMap::of(&catalog.contexts);
        let references = blueprint::check_references(&catalog);
        catalog.problems.extend(references);
        tracing::debug!(
            contexts = catalog.contexts.len(),
            problems = catalog.problems.len(),
            roots = ?roots,
            "catalog loaded"
        );
        Ok(catalog)
    }

    /// Refuses (exit status 2) when any context has a problem.
    pub fn ensure_valid(&self) -> Result<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Catalog(self.problems.clone()))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Context> {
        self.contexts.get(name)
    }

    /// Looks a module up by name, refusing with the known names when there is none.
    pub fn require(&self, name: &str) -> Result<&Context> {
        self.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.contexts.keys().map(String::as_str).collect();
            Error::refused(
                format!("unknown module {name:?}"),
                format!(
                    "use one of: {} (see `estate modules`)",
                    if known.is_empty() {
                        "(none: the contexts folder is empty)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }

    pub fn migration_count(&self) -> usize {
        self.contexts
            .values()
            .flat_map(|c| c.sets.values())
            .map(|s| s.migrations.len())
            .sum()
    }
}

/// The folders of `root` that may be contexts (hidden ones are not), sorted.
fn context_folders(root: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| Error::io(format!("listing contexts in {}", root.display()), e))?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", root.display()), e))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The contexts folders as a message names them.
pub fn describe_roots(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn load_context(dir: &Path, problems: &mut Vec<Problem>) -> Option<Context> {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest_path = dir.join("context.toml");
    // Looked at, not followed: a link in its place is refused below like any non-file.
    if std::fs::symlink_metadata(&manifest_path)
        .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        problems.push(Problem::new(
                dir,
                "is a folder in a contexts folder without a context.toml",
                "add a context.toml (name, title, version, description, requires) or move the folder out of contexts/",
            ));
        return None;
    }
    let text = migration_set::source_text(&manifest_path, "manifest", problems)?;
    let manifest = Manifest::parse(&manifest_path, &text, &folder, problems)?;
    let mut sets = BTreeMap::new();
    let migrations_dir = dir.join("migrations");
    if migrations_dir.is_dir() {
        check_scope_folders(&migrations_dir, problems);
        for scope in Scope::ALL {
            let scope_dir = migrations_dir.join(scope.as_str());
            if scope_dir.is_dir() {
                let set = MigrationSet::load(&manifest.name, scope, &scope_dir, problems);
                sets.insert(scope, set);
            }
        }
    }
    let other = match (&manifest.migrator_binary, &manifest.migrator_command) {
        (Some(binary), _) => Some(format!("a Rust migrator in the binary `{binary}`")),
        (None, Some(command)) => {
            command::check(dir, command, problems);
            Some(format!("the command migrator {:?}", command.argv))
        }
        (None, None) => None,
    };
    if let Some(other) = other
        && sets.values().any(|s| !s.migrations.is_empty())
    {
        // Two sources for one context's schema: which one ran would depend on the migrator.
        problems.push(Problem::new(
            &migrations_dir,
            format!("holds migrations, but context.toml gives the context {other}"),
            "keep one: remove the [migrator] table to run the files, or move the migrations into that migrator",
        ));
    }
    Some(Context {
        manifest,
        dir: dir.to_path_buf(),
        sets,
    })
}

fn check_scope_folders(migrations_dir: &Path, problems: &mut Vec<Problem>) {
    let Ok(entries) = std::fs::read_dir(migrations_dir) else {
        problems.push(Problem::new(
            migrations_dir,
            "cannot be listed",
            "make the folder readable by the user running estate",
        ));
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if Scope::parse(&name).is_none() {
            problems.push(Problem::new(
                &entry.path(),
                "is not a scope",
                "migrations/ holds only the folders landlord/ and tenant/",
            ));
        } else if !entry.path().is_dir() {
            // Read as "no migrations in this scope", a file here would drop them silently.
            problems.push(Problem::new(
                &entry.path(),
                "is not a folder",
                format!("make {name} a folder of migration files"),
            ));
        }
    }
}
