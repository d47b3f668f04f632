//! Scaffolding for the people who write contexts: `estate new context` makes a context folder
//! with its manifest and scope folders; `estate new migration` adds the next migration of a
//! set in the layout the set already uses (sqlx-cli files, diesel folders) or as a blueprint,
//! numbered after the last one. Nothing is overwritten and no editor is opened: the paths are
//! returned for the caller to print.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, REGISTRY_CONTEXT, Scope, folder_stem, is_valid_context_name};
use crate::error::{Error, Result};

/// Versions at or above this read as timestamps (`20240115093000`), as sqlx-cli and diesel
/// number them; below, as a sequence (`0004`).
const TIMESTAMP_VERSION: i64 = 10_000_000_000_000;

/// The catalog of the contexts folders that exist so far (none may, before the first context).
fn catalog_so_far(roots: &[PathBuf]) -> Result<Catalog> {
    let existing: Vec<PathBuf> = roots.iter().filter(|r| r.is_dir()).cloned().collect();
    if existing.is_empty() {
        return Ok(Catalog::default());
    }
    Catalog::load(&existing)
}

/// Makes `NAME` with a `context.toml` and empty `migrations/landlord` and `migrations/tenant`
/// folders in the first of the contexts folders `roots`. Returns the files and folders created.
pub fn new_context(roots: &[PathBuf], name: &str, requires: &[String]) -> Result<Vec<PathBuf>> {
    let root = roots
        .first()
        .map(PathBuf::as_path)
        .unwrap_or(Path::new("contexts"));
    if !is_valid_context_name(name) {
        return Err(Error::refused(
            format!("{name:?} is not a valid context name"),
            "use lowercase letters, digits and _, starting with a letter, at most 63 characters",
        ));
    }
    if name == REGISTRY_CONTEXT {
        return Err(Error::refused(
            format!("{name:?} is reserved for estate's own module registry"),
            "choose another name",
        ));
    }
    let dir = root.join(name);
    if dir.exists() {
        return Err(Error::refused(
            format!("{} already exists", dir.display()),
            "choose another name, or add a migration to it with `estate new migration`",
        ));
    }
    if let Some(twice) = requires
        .iter()
        .enumerate()
        .find(|(i, r)| requires[..*i].contains(r))
        .map(|(_, r)| r)
    {
        return Err(Error::refused(
            format!("{twice} is listed twice in --requires"),
            "list each required context once",
        ));
    }
    let catalog = catalog_so_far(roots)?;
    if let Some(other) = catalog.get(name) {
        return Err(Error::refused(
            format!("context {name} already exists, in {}", other.dir.display()),
            "choose another name, or add a migration to it with `estate new migration`",
        ));
    }
    if !catalog.roots.is_empty() {
        for required in requires {
            if required == name {
                return Err(Error::refused(
                    format!("{name} cannot require itself"),
                    "remove it from --requires",
                ));
            }
            catalog.require(required)?;
        }
    } else if let Some(required) = requires.first() {
        return Err(Error::refused(
            format!(
                "{required:?} is no context: {} does not exist yet",
                root.display()
            ),
            "create the contexts it requires first, or leave --requires out",
        ));
    }
    let title = name
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ");
    let requires_list = requires
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = format!(
        "# The {title} context: its migrations are in migrations/landlord (the central database)\n\
         # and migrations/tenant (each tenant's). Add one with `estate new migration {name} tenant NAME`.\n\
         name = \"{name}\"\n\
         title = \"{title}\"\n\
         version = \"0.1.0\"\n\
         description = \"\"\n\
         # Contexts installed before this one; a foreign key may point only at their tables.\n\
         requires = [{requires_list}]\n"
    );
    let created = all_or_nothing(|created| {
        // A new project's first context makes the contexts folder too.
        create_dir(root, created)?;
        create_dir(&dir, created)?;
        write_new(&dir.join("context.toml"), &manifest, created)?;
        let migrations = dir.join("migrations");
        create_dir(&migrations, created)?;
        for scope in Scope::ALL {
            let scope_dir = migrations.join(scope.as_str());
            create_dir(&scope_dir, created)?;
            // Git keeps no empty folder; the loader skips dot files.
            write_new(&scope_dir.join(".gitkeep"), "", created)?;
        }
        Ok(())
    })?;
    tracing::info!(context = name, ?requires, "new context scaffolded");
    Ok(created
        .into_iter()
        .filter(|p| !p.ends_with(".gitkeep"))
        .collect())
}

/// What `new_migration` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationKind {
    Sql,
    Blueprint,
}

/// Adds the next migration to `context`'s `scope` set, named `name`. Returns the files made.
pub fn new_migration(
    roots: &[PathBuf],
    context: &str,
    scope: Scope,
    name: &str,
    kind: MigrationKind,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<PathBuf>> {
    let name = name.trim().replace([' ', '-'], "_");
    if name.is_empty()
        || name.len() > 100
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::refused(
            format!("{name:?} is not a migration name"),
            "use letters, digits and _ (spaces and - become _), at most 100 characters, e.g. create_users",
        ));
    }
    let catalog = catalog_so_far(roots)?;
    let found = catalog.require(context)?;
    let migrations = found.dir.join("migrations");
    let dir = migrations.join(scope.as_str());
    let layout = Layout::of(&dir);
    let version = layout.next_version(now).ok_or_else(|| {
        Error::refused(
            format!(
                "{} already holds the largest version there can be",
                dir.display()
            ),
            "renumber that migration to a smaller version, or name this one by hand",
        )
    })?;
    let description = name.replace('_', " ");
    let head = format!("{context} {scope} migration {version}: {description}.");
    // (path, text); a folder first when the migration is one.
    let mut folder = None;
    let files: Vec<(PathBuf, String)> = match (kind, layout.diesel) {
        (MigrationKind::Blueprint, _) => vec![(
            dir.join(format!("{}_{name}.toml", layout.format(version, false))),
            blueprint_template(&head),
        )],
        (MigrationKind::Sql, true) => {
            let f = dir.join(format!("{}_{name}", layout.format(version, true)));
            folder = Some(f.clone());
            vec![
                (f.join("up.sql"), up_template(&head, true)),
                (f.join("down.sql"), down_template(&head, "up.sql")),
            ]
        }
        (MigrationKind::Sql, false) => {
            let stem = format!("{}_{name}", layout.format(version, false));
            vec![
                (
                    dir.join(format!("{stem}.up.sql")),
                    up_template(&head, false),
                ),
                (
                    dir.join(format!("{stem}.down.sql")),
                    down_template(&head, &format!("{stem}.up.sql")),
                ),
            ]
        }
    };
    // Checked before anything is written, so a refusal leaves no half migration behind.
    for path in files.iter().map(|(p, _)| p).chain(folder.iter()) {
        if path.exists() {
            return Err(Error::refused(
                format!("{} already exists", path.display()),
                "nothing was written: choose another name",
            ));
        }
    }
    let created = all_or_nothing(|created| {
        create_dir(&migrations, created)?;
        create_dir(&dir, created)?;
        if let Some(folder) = &folder {
            create_dir(folder, created)?;
        }
        for (path, text) in &files {
            write_new(path, text, created)?;
        }
        Ok(())
    })?;
    tracing::info!(context, %scope, version, name, ?kind, "new migration scaffolded");
    Ok(created)
}

/// How a set names its migrations, read from what is there.
struct Layout {
    /// Folders in diesel's layout.
    diesel: bool,
    /// Digits of a sequential version (`0004` is 4).
    width: usize,
    /// The highest version of any file or folder named like a migration, loadable or not: a
    /// half-written one still takes its number.
    last: Option<i64>,
}

impl Layout {
    fn of(dir: &Path) -> Layout {
        let mut layout = Layout {
            diesel: false,
            width: 4,
            last: None,
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return layout;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.contains('_') {
                continue;
            }
            let is_dir = entry.path().is_dir();
            // diesel writes 2024-01-15-093000; files are digits only.
            let stem = if is_dir { folder_stem(&name) } else { name };
            let Some((digits, _)) = stem.split_once('_') else {
                continue;
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(number) = digits.parse::<i64>() else {
                continue;
            };
            if is_dir {
                layout.diesel = true;
            } else {
                layout.width = layout.width.max(digits.len());
            }
            layout.last = layout.last.max(Some(number));
        }
        layout
    }

    /// `None` when the last version is the largest there can be.
    fn next_version(&self, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
        let timestamp: i64 = now
            .format("%Y%m%d%H%M%S")
            .to_string()
            .parse()
            .unwrap_or(TIMESTAMP_VERSION);
        let after = match self.last {
            Some(v) => v.checked_add(1)?,
            None => 1,
        };
        Some(match self.last {
            // diesel numbers by timestamp from the start (its setup migration is 0).
            _ if self.diesel => timestamp.max(after),
            Some(v) if v >= TIMESTAMP_VERSION => timestamp.max(after),
            _ => after,
        })
    }

    /// The version as the file name writes it: dashes in a diesel folder's timestamp.
    fn format(&self, version: i64, folder: bool) -> String {
        let digits = format!("{version:0width$}", width = self.width);
        if folder && version >= TIMESTAMP_VERSION && digits.len() == 14 {
            format!(
                "{}-{}-{}-{}",
                &digits[0..4],
                &digits[4..6],
                &digits[6..8],
                &digits[8..]
            )
        } else {
            digits
        }
    }
}

fn up_template(head: &str, diesel: bool) -> String {
    let outside = if diesel {
        "put run_in_transaction = false in a metadata.toml beside it"
    } else {
        "start the file with `-- no-transaction`"
    };
    format!(
        "-- {head}\n\
         -- Runs in one transaction with its ledger row; {outside}\n\
         -- for statements that refuse one (CREATE INDEX CONCURRENTLY, VACUUM).\n"
    )
}

fn down_template(head: &str, up: &str) -> String {
    format!("-- Reverts {head}\n-- Undo what {up} does, in the reverse order.\n")
}

fn blueprint_template(head: &str) -> String {
    format!(
        "# {head}\n\
         # A blueprint: say what the tables are, estate writes the SQL for each engine and the\n\
         # rollback (`estate install … --dry-run` shows it). As it is, it changes nothing.\n\
         #\n\
         # [[create_table]]\n\
         # name = \"things\"\n\
         # columns = [\n\
         #   {{ name = \"id\", type = \"id\" }},\n\
         #   {{ name = \"label\", type = \"string(200)\" }},\n\
         #   {{ name = \"note\", type = \"text\", nullable = true }},\n\
         #   {{ name = \"created_at\", type = \"timestamp\", default = \"now\" }},\n\
         # ]\n\
         # indexes = [{{ columns = [\"label\"], unique = true }}]\n\
         #\n\
         # [[add_column]]\n\
         # table = \"things\"\n\
         # column = {{ name = \"color\", type = \"string(7)\", nullable = true }}\n\
         #\n\
         # [[add_index]]\n\
         # table = \"things\"\n\
         # columns = [\"color\"]\n\
         #\n\
         # Types: id, integer, bigint, text, string(n), boolean, timestamp, json, uuid, decimal(p,s).\n\
         # Columns: nullable, default, unique, primary_key, references = \"table.column\", on_delete.\n"
    )
}

/// Runs `make`, which records each path it creates; on an error, removes them again (last
/// first) so a failure leaves nothing half made.
fn all_or_nothing(make: impl FnOnce(&mut Vec<PathBuf>) -> Result<()>) -> Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    match make(&mut created) {
        Ok(()) => Ok(created),
        Err(e) => {
            for path in created.iter().rev() {
                let removed = if path.is_dir() {
                    std::fs::remove_dir(path)
                } else {
                    std::fs::remove_file(path)
                };
                if let Err(error) = removed {
                    tracing::warn!(path = %path.display(), %error, "could not remove what a failed scaffold made");
                }
            }
            Err(e)
        }
    }
}

/// Source files are the project's, read by the team and its tools: the usual modes, not the
/// owner-only ones estate's process umask gives its databases and logs.
fn share(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(format!("setting the mode of {}", path.display()), e))
}

fn create_dir(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => {
            // Recorded first: if what follows fails, the folder is removed with the rest.
            created.push(dir.to_path_buf());
            share(dir, 0o755)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::io(format!("creating {}", dir.display()), e)),
    }
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, text: &str, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::refused(
                    format!("{} already exists", path.display()),
                    "nothing was overwritten: choose another name",
                )
            } else {
                Error::io(format!("creating {}", path.display()), e)
            }
        })?;
    created.push(path.to_path_buf());
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    share(path, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_timestamps_keep_their_dashes() {
        let layout = Layout {
            diesel: true,
            width: 4,
            last: Some(0),
        };
        assert_eq!(layout.format(20240115093000, true), "2024-01-15-093000");
        assert_eq!(layout.format(20240115093000, false), "20240115093000");
        let seq = Layout {
            diesel: false,
            width: 4,
            last: Some(6),
        };
        assert_eq!(seq.format(7, false), "0007");
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T15:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(seq.next_version(now), Some(7));
        // diesel's setup migration is 00000000000000: the next is still a timestamp.
        assert_eq!(layout.next_version(now), Some(20261201150000));
        let stamped = Layout {
            diesel: false,
            width: 14,
            last: Some(20991231000000),
        };
        assert_eq!(stamped.next_version(now), Some(20991231000001));
        let full = Layout {
            diesel: false,
            width: 19,
            last: Some(i64::MAX),
        };
        assert_eq!(full.next_version(now), None);
    }
}
