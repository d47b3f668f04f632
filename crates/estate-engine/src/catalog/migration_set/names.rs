//! What a migration file's name says: `<version>_<description>.up.sql` / `.down.sql`
//! (sqlx-cli's reversible convention), perhaps with an engine before `.sql`. Versions are
//! integers, so they order numerically whatever their padding.

use std::path::Path;

use crate::sql::Engine;

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
    if version == 0 {
        // 0 is the ledger's "nothing applied", the target of a whole rollback: a migration
        // numbered so would be planned as applied already and never reverted.
        return Err(
            "has version 0, which means \"nothing applied\": number migrations from 1, e.g. 0001_create_users"
                .into(),
        );
    }
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

/// The last component of `path`, as text for messages.
pub(super) fn file_name(path: &Path) -> String {
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
}
