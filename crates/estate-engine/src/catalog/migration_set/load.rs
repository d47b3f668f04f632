//! Reading a migration set from its folder: each file's name parsed, its text read, the files
//! of one version gathered and paired (up with down, per engine). Loading never stops at the
//! first problem: each is pushed, and only the versions it touches are left out of the set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::blueprints::load_blueprint;
use super::names::{Direction, file_name, parse_file_name};
use super::{Migration, MigrationSet, SqlFile, diesel};
use crate::catalog::blueprint::Blueprint;
use crate::catalog::{Problem, Scope};
use crate::sql::Engine;

/// The files found for one version, before they are paired.
#[derive(Default)]
pub(super) struct Found {
    /// A blueprint of this version, with its path and checksum.
    pub(super) blueprint: Option<(PathBuf, String, Blueprint)>,
    /// Every description seen for this version: more than one is a clash.
    pub(super) descriptions: BTreeSet<String>,
    /// Every file of this version, to name them in a clash.
    pub(super) names: Vec<String>,
    pub(super) ups: BTreeMap<Option<Engine>, Vec<SqlFile>>,
    pub(super) downs: BTreeMap<Option<Engine>, Vec<SqlFile>>,
    /// A file of this version could not be used (already reported).
    pub(super) broken: bool,
}

impl MigrationSet {
    /// Reads every migration file in `dir`. Problems are pushed; versions with problems are
    /// left out of the set.
    pub fn load(context: &str, scope: Scope, dir: &Path, problems: &mut Vec<Problem>) -> Self {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(Problem::new(
                    dir,
                    format!("cannot be listed: {e}"),
                    "make the folder readable by the user running estate",
                ));
                return MigrationSet::empty(context, scope, dir);
            }
        };
        let mut found: BTreeMap<i64, Found> = BTreeMap::new();
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = file_name(&path);
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                diesel::load(&path, &name, &mut found, problems);
                continue;
            }
            if let Some(stem) = name.strip_suffix(".toml") {
                load_blueprint(&path, stem, &mut found, problems);
                continue;
            }
            let parsed = match parse_file_name(&name) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => continue,
                Err(message) => {
                    problems.push(Problem::new(
                        &path,
                        message,
                        "rename the file to <version>_<description>.up.sql / .down.sql",
                    ));
                    continue;
                }
            };
            let entry = found.entry(parsed.version).or_default();
            entry.descriptions.insert(parsed.description.clone());
            entry.names.push(name.clone());
            let Some(sql) = read_text(&path, problems) else {
                entry.broken = true;
                continue;
            };
            let file = SqlFile::new(path, sql);
            let side = match parsed.direction {
                Direction::Up => &mut entry.ups,
                Direction::Down => &mut entry.downs,
            };
            side.entry(parsed.engine).or_default().push(file);
        }

        let mut migrations = Vec::new();
        for (version, f) in found {
            if f.descriptions.len() > 1 {
                problems.push(Problem::new(
                    dir,
                    format!("version {version} is used more than once: {}", f.names.join(", ")),
                    "give each migration its own version number, and all files of one migration the same name",
                ));
                continue;
            }
            if f.broken {
                continue;
            }
            if let Some((path, checksum, blueprint)) = f.blueprint {
                if !f.ups.is_empty() || !f.downs.is_empty() {
                    problems.push(Problem::new(
                        dir,
                        format!(
                            "version {version} is both a blueprint and SQL files: {}",
                            f.names.join(", ")
                        ),
                        "give each migration its own version number",
                    ));
                    continue;
                }
                migrations.push(Migration::from_blueprint(
                    version,
                    f.descriptions.into_iter().next().unwrap_or_default(),
                    path,
                    checksum,
                    blueprint,
                ));
                continue;
            }
            let mut ok = true;
            for (direction, side) in [("up", &f.ups), ("down", &f.downs)] {
                for files in side.values().filter(|files| files.len() > 1) {
                    let names: Vec<String> = files.iter().map(SqlFile::name).collect();
                    problems.push(Problem::new(
                        dir,
                        format!(
                            "version {version} has {} {direction} files: {}",
                            files.len(),
                            names.join(", ")
                        ),
                        "give each migration its own version number",
                    ));
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            let ups: BTreeMap<Option<Engine>, SqlFile> = f
                .ups
                .into_iter()
                .filter_map(|(e, mut v)| v.pop().map(|f| (e, f)))
                .collect();
            let downs: BTreeMap<Option<Engine>, SqlFile> = f
                .downs
                .into_iter()
                .filter_map(|(e, mut v)| v.pop().map(|f| (e, f)))
                .collect();
            let migration = Migration {
                version,
                description: f.descriptions.into_iter().next().unwrap_or_default(),
                ups,
                downs,
                blueprint: None,
            };
            if let Some(problem) = missing_partner(&migration) {
                problems.push(problem);
                continue;
            }
            migrations.push(migration);
        }
        MigrationSet {
            context: context.to_string(),
            scope,
            dir: dir.to_path_buf(),
            migrations,
        }
    }
}

/// A migration file's text, or `None` with the problem pushed: a regular file (see
/// [`crate::files::read_regular`]) of UTF-8 text without a NUL byte (which SQL never holds,
/// and on which a driver may spin rather than fail).
pub(super) fn read_text(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    let text = source_text(path, "migration", problems)?;
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        problems.push(Problem::new(
            path,
            format!("holds a NUL byte on line {line}"),
            "remove it: SQL text holds no NUL byte (was a binary file saved under this name?)",
        ));
        return None;
    }
    Some(text)
}

/// A file of the project read as UTF-8 text, or `None` with the problem pushed (`what` names
/// it in the fix: a migration, a manifest).
pub(crate) fn source_text(path: &Path, what: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match crate::files::read_regular(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                problems.push(Problem::new(
                    path,
                    "is not valid UTF-8",
                    format!("save the {what} as UTF-8 text"),
                ));
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            problems.push(Problem::new(
                path,
                format!("cannot be read: {e}"),
                format!("put the {what}'s text in a regular file of that name"),
            ));
            None
        }
        Err(e) => {
            problems.push(Problem::new(
                path,
                format!("cannot be read: {e}"),
                "make the file readable by the user running estate",
            ));
            None
        }
    }
}

/// Every engine must find both an up and a down file for the migration.
fn missing_partner(m: &Migration) -> Option<Problem> {
    // The file that is there, the side that is missing, and the advice.
    let lonely =
        |file: &SqlFile, have: &str, want: &str, generic: bool, engine: Engine, fix: &str| {
            let name = if generic {
                file.name()
                    .replace(&format!(".{have}."), &format!(".{want}."))
            } else {
                format!(
                    "{:04}_{}.{want}.sql",
                    m.version,
                    m.description.replace(' ', "_")
                )
            };
            let which = if generic {
                String::new()
            } else {
                format!(" for {engine}")
            };
            Problem::new(
                &file.path,
                format!("has no .{want}.sql{which}"),
                format!("add {name} {fix}"),
            )
        };
    for engine in Engine::ALL {
        match (m.up(engine), m.down(engine)) {
            (Some(_), Some(_)) => {}
            (Some(up), None) => {
                return Some(lonely(
                    up,
                    "up",
                    "down",
                    m.ups.contains_key(&None),
                    engine,
                    "that reverts it",
                ));
            }
            (None, Some(down)) => {
                return Some(lonely(
                    down,
                    "down",
                    "up",
                    m.downs.contains_key(&None),
                    engine,
                    "or remove the down file",
                ));
            }
            (None, None) => {
                let any = m.ups.values().chain(m.downs.values()).next()?;
                return Some(Problem::new(
                    &any.path,
                    format!("has no files for {engine}"),
                    format!(
                        "add generic {:04}_{}.up.sql / .down.sql beside the engine-specific ones",
                        m.version,
                        m.description.replace(' ', "_")
                    ),
                ));
            }
        }
    }
    None
}
