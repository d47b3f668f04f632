//! A migration set: the ordered migrations of one context in one scope.
//!
//! Files follow sqlx-cli's reversible convention, `<version>_<description>.up.sql` with its
//! `.down.sql`, so a folder made by `sqlx migrate add -r` is a valid set as it is. Versions are
//! integers ordered numerically. A migration may also ship engine-specific files beside the
//! generic ones (`0003_x.up.postgres.sql`, `0003_x.down.sqlite.sql`); on its engine the specific
//! file wins. Beside them, a migration may be a blueprint (`0004_x.toml`, rendered per engine)
//! or a folder in diesel's layout (`2024-01-15-093000_x/up.sql` + `down.sql`), used as it is.
//! The checksum of a migration is taken over the file written by hand (the up file used on
//! the engine, or the blueprint), with line endings normalised, so a CRLF checkout does not
//! look like drift and a new estate that renders a blueprint differently does not either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod diesel;

pub use diesel::folder_stem;

use super::blueprint::{self, Blueprint};
use super::{Problem, Scope};
use crate::sql::Engine;

/// One migration file, read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    pub path: PathBuf,
    pub sql: String,
    /// SHA-256 of the file, line endings normalised, in hex.
    pub checksum: String,
    outside_transaction: bool,
}

impl SqlFile {
    pub fn new(path: PathBuf, sql: String) -> SqlFile {
        SqlFile {
            checksum: checksum(sql.as_bytes()),
            outside_transaction: is_no_transaction(&sql),
            path,
            sql,
        }
    }

    /// SQL rendered from a blueprint: its checksum is the blueprint's, the file written by
    /// hand.
    pub fn rendered(path: PathBuf, sql: String, checksum: String) -> SqlFile {
        SqlFile {
            checksum,
            outside_transaction: false,
            path,
            sql,
        }
    }

    /// Marks the file to run outside a transaction whatever its first line (diesel's
    /// `run_in_transaction = false`).
    pub fn outside_transaction(mut self) -> SqlFile {
        self.outside_transaction = true;
        self
    }

    /// The file's name, with its folder for a diesel-layout migration (`…_x/up.sql`).
    pub fn name(&self) -> String {
        let name = file_name(&self.path);
        if name.starts_with("up.") || name.starts_with("down.") {
            let folder = self.path.parent().map(file_name).unwrap_or_default();
            format!("{folder}/{name}")
        } else {
            name
        }
    }

    /// Whether the file runs outside a transaction: its first line is `-- no-transaction`,
    /// sqlx-cli's marker, for statements an engine refuses inside one (`CREATE INDEX
    /// CONCURRENTLY`, `VACUUM`), or diesel's metadata said so.
    pub fn no_transaction(&self) -> bool {
        self.outside_transaction
    }
}

/// The first line that makes a migration file run outside a transaction.
pub const NO_TRANSACTION: &str = "-- no-transaction";

/// Whether migration SQL opens with [`NO_TRANSACTION`].
pub fn is_no_transaction(sql: &str) -> bool {
    sql.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .is_some_and(|l| l.trim() == NO_TRANSACTION)
}

/// One reversible migration: its generic files and any engine-specific ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    /// From the file name, underscores read as spaces (as sqlx-cli records it).
    pub description: String,
    /// Up files by engine; `None` is the generic file.
    pub ups: BTreeMap<Option<Engine>, SqlFile>,
    pub downs: BTreeMap<Option<Engine>, SqlFile>,
    /// When the migration is a blueprint: what it declares (its files above are rendered).
    pub blueprint: Option<Blueprint>,
}

impl Migration {
    /// The up file used on `engine`: its own, else the generic one.
    pub fn up(&self, engine: Engine) -> Option<&SqlFile> {
        self.ups.get(&Some(engine)).or_else(|| self.ups.get(&None))
    }

    /// The down file used on `engine`: its own, else the generic one.
    pub fn down(&self, engine: Engine) -> Option<&SqlFile> {
        self.downs
            .get(&Some(engine))
            .or_else(|| self.downs.get(&None))
    }

    /// The name of the generic up file (or the first one), for messages.
    pub fn file_name(&self) -> String {
        self.ups
            .values()
            .next()
            .map(SqlFile::name)
            .unwrap_or_else(|| format!("{}_{}", self.version, self.description))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub context: String,
    pub scope: Scope,
    pub dir: PathBuf,
    /// Ascending by version; each one usable on every engine.
    pub migrations: Vec<Migration>,
}

/// Direction of a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// What a migration file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub version: i64,
    pub description: String,
    pub direction: Direction,
    /// `Some` for an engine-specific file.
    pub engine: Option<Engine>,
}

/// Parses `<version>_<description>.up.sql` / `.down.sql`, optionally with an engine before
/// `.sql` (`.up.postgres.sql`). `Ok(None)` for files that are not SQL at all (ignored);
/// `Err(message)` for SQL files that do not follow the convention.
pub fn parse_file_name(name: &str) -> Result<Option<FileName>, String> {
    let Some(stem) = name.strip_suffix(".sql") else {
        // `0001_x.up.SQL` is a migration in every way but the case of its extension: ignored, it
        // would silently never run.
        let extension = name.get(name.len().saturating_sub(4)..).unwrap_or_default();
        if extension.eq_ignore_ascii_case(".sql") {
            return Err(format!(
                "has the extension {extension:?}: name it in lowercase, <version>_<description>.up.sql / .down.sql"
            ));
        }
        return Ok(None);
    };
    let (stem, engine) = match stem.rsplit_once('.') {
        Some((rest, last))
            if last != "up"
                && last != "down"
                && (rest.ends_with(".up") || rest.ends_with(".down")) =>
        {
            let engine = Engine::parse(last).ok_or_else(|| {
                format!("names engine {last:?}, which estate does not know: use .sqlite.sql or .postgres.sql")
            })?;
            (rest, Some(engine))
        }
        _ => (stem, None),
    };
    let (stem, direction) = if let Some(stem) = stem.strip_suffix(".up") {
        (stem, Direction::Up)
    } else if let Some(stem) = stem.strip_suffix(".down") {
        (stem, Direction::Down)
    } else {
        return Err(
            "is not reversible: name it <version>_<description>.up.sql with a matching .down.sql"
                .into(),
        );
    };
    let (version, description) = version_and_description(stem)?;
    Ok(Some(FileName {
        version,
        description,
        direction,
        engine,
    }))
}

/// Reads `<version>_<description>`: the version as a number, the description with underscores
/// read as spaces.
pub fn version_and_description(stem: &str) -> Result<(i64, String), String> {
    let (version, description) = stem.split_once('_').unwrap_or((stem, ""));
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "version {version:?} is not a number: name it <version>_<description>, e.g. 0001_create_users"
        ));
    }
    let version: i64 = version.parse().map_err(|_| {
        format!("version {version} is too large: versions must fit a 64-bit signed integer")
    })?;
    if description.is_empty() {
        return Err(
            "has no description: name it <version>_<description>, e.g. 0001_create_users".into(),
        );
    }
    if description.chars().any(char::is_control) {
        return Err("has control characters in its description".into());
    }
    Ok((version, description.replace('_', " ")))
}

/// SHA-256 in hex over `bytes` with CRLF (and lone CR) read as LF.
pub fn checksum(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                hasher.update(b"\n");
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b => hasher.update([b]),
        }
        i += 1;
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files found for one version, before they are paired.
#[derive(Default)]
struct Found {
    /// A blueprint of this version, with its path and checksum.
    blueprint: Option<(PathBuf, String, Blueprint)>,
    /// Every description seen for this version: more than one is a clash.
    descriptions: BTreeSet<String>,
    /// Every file of this version, to name them in a clash.
    names: Vec<String>,
    ups: BTreeMap<Option<Engine>, Vec<SqlFile>>,
    downs: BTreeMap<Option<Engine>, Vec<SqlFile>>,
    /// A file of this version could not be used (already reported).
    broken: bool,
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

    pub fn empty(context: &str, scope: Scope, dir: &Path) -> Self {
        MigrationSet {
            context: context.to_string(),
            scope,
            dir: dir.to_path_buf(),
            migrations: Vec::new(),
        }
    }

    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }
}

/// Reads `<version>_<description>.toml` as a blueprint into `found`.
fn load_blueprint(
    path: &Path,
    stem: &str,
    found: &mut BTreeMap<i64, Found>,
    problems: &mut Vec<Problem>,
) {
    let (version, description) = match version_and_description(stem) {
        Ok(parsed) => parsed,
        Err(message) => {
            problems.push(Problem::new(
                path,
                message,
                "name a blueprint <version>_<description>.toml, or move other files out of the migration set",
            ));
            return;
        }
    };
    let entry = found.entry(version).or_default();
    entry.descriptions.insert(description);
    entry.names.push(file_name(path));
    let text = match read_text(path, problems) {
        Some(text) => text,
        None => {
            entry.broken = true;
            return;
        }
    };
    match Blueprint::parse(path, &text) {
        Ok(blueprint) => {
            if let Some((other, _, _)) = &entry.blueprint {
                problems.push(Problem::new(
                    path,
                    format!("has the version of {} too", file_name(other)),
                    "give each migration its own version number",
                ));
                entry.broken = true;
            }
            entry.blueprint = Some((path.to_path_buf(), checksum(text.as_bytes()), blueprint));
        }
        Err(found_problems) => {
            problems.extend(found_problems);
            entry.broken = true;
        }
    }
}

/// A migration file's text, or `None` with the problem pushed.
fn read_text(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                problems.push(Problem::new(
                    path,
                    "is not valid UTF-8",
                    "save the migration as UTF-8 text",
                ));
                None
            }
        },
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

impl Migration {
    /// A blueprint migration, rendered for every engine.
    fn from_blueprint(
        version: i64,
        description: String,
        path: PathBuf,
        checksum: String,
        blueprint: Blueprint,
    ) -> Migration {
        let render = |sql: fn(&Blueprint, Engine) -> String| {
            Engine::ALL
                .into_iter()
                .map(|e| {
                    let file =
                        SqlFile::rendered(path.clone(), sql(&blueprint, e), checksum.clone());
                    (Some(e), file)
                })
                .collect()
        };
        Migration {
            version,
            description,
            ups: render(blueprint::render::up),
            downs: render(blueprint::render::down),
            blueprint: Some(blueprint),
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

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_sqlx_reversible_convention() {
        let f = parse_file_name("0003_add_color.up.sql").unwrap().unwrap();
        assert_eq!(
            (f.version, f.description.as_str(), f.direction),
            (3, "add color", Direction::Up)
        );
        let f = parse_file_name("20240101120000_x.down.sql")
            .unwrap()
            .unwrap();
        assert_eq!(f.version, 20240101120000);
        assert_eq!(parse_file_name("README.md"), Ok(None));
        assert!(parse_file_name("0001_x.sql").is_err());
        assert!(parse_file_name("abc_x.up.sql").is_err());
        assert!(parse_file_name("_x.up.sql").is_err());
        assert!(parse_file_name("0001.up.sql").is_err());
        let f = parse_file_name("0003_x.up.postgres.sql").unwrap().unwrap();
        assert_eq!(f.engine, Some(Engine::Postgres));
        assert_eq!(f.direction, Direction::Up);
        let f = parse_file_name("0003_x.down.sqlite.sql").unwrap().unwrap();
        assert_eq!(
            (f.engine, f.direction),
            (Some(Engine::Sqlite), Direction::Down)
        );
        assert!(
            parse_file_name("0003_x.up.mysql.sql")
                .unwrap_err()
                .contains("mysql")
        );
        assert_eq!(
            parse_file_name("0003_x.y.up.sql")
                .unwrap()
                .unwrap()
                .description,
            "x.y"
        );
        assert!(
            parse_file_name("0001_x.up.SQL")
                .unwrap_err()
                .contains("lowercase")
        );
        assert_eq!(parse_file_name("0001_x.up.sql.bak"), Ok(None));
        assert!(
            parse_file_name("99999999999999999999_x.up.sql")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn line_endings_do_not_change_the_checksum() {
        assert_eq!(checksum(b"a;\r\nb;\r\n"), checksum(b"a;\nb;\n"));
        assert_ne!(checksum(b"a;\nb;\n"), checksum(b"a;\nc;\n"));
        assert_eq!(checksum(b"").len(), 64);
    }
}
