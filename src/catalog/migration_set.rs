//! A migration set: the ordered migrations of one context in one scope.
//!
//! Files follow sqlx-cli's reversible convention, `<version>_<description>.up.sql` with its
//! `.down.sql`, so a folder made by `sqlx migrate add -r` is a valid set as it is. Versions are
//! integers ordered numerically. The checksum of a migration is taken over its up file with line
//! endings normalised, so a CRLF checkout does not look like drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Problem, Scope};

/// One reversible migration, its SQL read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    /// From the file name, underscores read as spaces (as sqlx-cli records it).
    pub description: String,
    pub up_sql: String,
    pub down_sql: String,
    pub up_file: PathBuf,
    pub down_file: PathBuf,
    /// SHA-256 of the up file, line endings normalised, in hex.
    pub checksum: String,
}

impl Migration {
    /// The up file's name, used in messages.
    pub fn file_name(&self) -> String {
        self.up_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}_{}", self.version, self.description))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub context: String,
    pub scope: Scope,
    pub dir: PathBuf,
    /// Ascending by version.
    pub migrations: Vec<Migration>,
}

/// Direction of a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// What a migration file name says, or why it is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub version: i64,
    pub description: String,
    pub direction: Direction,
}

/// Parses `<version>_<description>.up.sql` / `.down.sql`. `Ok(None)` for files that are not
/// SQL at all (ignored); `Err(message)` for SQL files that do not follow the convention.
pub fn parse_file_name(name: &str) -> Result<Option<FileName>, String> {
    if !name.ends_with(".sql") {
        return Ok(None);
    }
    let (stem, direction) = if let Some(stem) = name.strip_suffix(".up.sql") {
        (stem, Direction::Up)
    } else if let Some(stem) = name.strip_suffix(".down.sql") {
        (stem, Direction::Down)
    } else {
        return Err(
            "is not reversible: name it <version>_<description>.up.sql with a matching .down.sql"
                .into(),
        );
    };
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
    Ok(Some(FileName {
        version,
        description: description.replace('_', " "),
        direction,
    }))
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

struct Half {
    path: PathBuf,
    description: String,
    sql: String,
    bytes: Vec<u8>,
}

impl MigrationSet {
    /// Reads every migration file in `dir`. Problems are pushed; files with problems are left
    /// out of the set.
    pub fn load(context: &str, scope: Scope, dir: &Path, problems: &mut Vec<Problem>) -> Self {
        let mut ups: BTreeMap<i64, Vec<Half>> = BTreeMap::new();
        let mut downs: BTreeMap<i64, Vec<Half>> = BTreeMap::new();
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
        // Versions with a file that could not be used: already reported, so their other half
        // is not reported again as lacking a partner.
        let mut broken: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                problems.push(Problem::new(
                    &path,
                    "is a folder inside a migration set",
                    "keep migration files directly in landlord/ or tenant/",
                ));
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
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    problems.push(Problem::new(
                        &path,
                        format!("cannot be read: {e}"),
                        "make the file readable by the user running estate",
                    ));
                    broken.insert(parsed.version);
                    continue;
                }
            };
            let Ok(sql) = String::from_utf8(bytes.clone()) else {
                problems.push(Problem::new(
                    &path,
                    "is not valid UTF-8",
                    "save the migration as UTF-8 text",
                ));
                broken.insert(parsed.version);
                continue;
            };
            let half = Half {
                path,
                description: parsed.description,
                sql,
                bytes,
            };
            match parsed.direction {
                Direction::Up => ups.entry(parsed.version).or_default().push(half),
                Direction::Down => downs.entry(parsed.version).or_default().push(half),
            }
        }

        let mut migrations = Vec::new();
        let versions: std::collections::BTreeSet<i64> =
            ups.keys().chain(downs.keys()).copied().collect();
        for version in versions {
            let up = ups.remove(&version).unwrap_or_default();
            let down = downs.remove(&version).unwrap_or_default();
            if broken.contains(&version) {
                continue;
            }
            if up.len() > 1 || down.len() > 1 {
                let files: Vec<String> = up
                    .iter()
                    .chain(down.iter())
                    .map(|h| file_name(&h.path))
                    .collect();
                problems.push(Problem::new(
                    dir,
                    format!(
                        "version {version} is used more than once: {}",
                        files.join(", ")
                    ),
                    "give each migration its own version number",
                ));
                continue;
            }
            match (up.into_iter().next(), down.into_iter().next()) {
                (Some(up), Some(down)) => {
                    if up.description.replace(' ', "_") != down.description.replace(' ', "_") {
                        problems.push(Problem::new(
                            &down.path,
                            format!(
                                "does not match its up file {} (descriptions differ)",
                                file_name(&up.path)
                            ),
                            "give the .up.sql and .down.sql of a version the same name",
                        ));
                        continue;
                    }
                    migrations.push(Migration {
                        version,
                        checksum: checksum(&up.bytes),
                        description: up.description,
                        up_sql: up.sql,
                        down_sql: down.sql,
                        up_file: up.path,
                        down_file: down.path,
                    });
                }
                (Some(up), None) => problems.push(Problem::new(
                    &up.path,
                    "has no .down.sql",
                    format!(
                        "add {} that reverts it",
                        file_name(&up.path).replace(".up.sql", ".down.sql")
                    ),
                )),
                (None, Some(down)) => problems.push(Problem::new(
                    &down.path,
                    "has no .up.sql",
                    format!(
                        "add {} or remove the down file",
                        file_name(&down.path).replace(".down.sql", ".up.sql")
                    ),
                )),
                (None, None) => {}
            }
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
