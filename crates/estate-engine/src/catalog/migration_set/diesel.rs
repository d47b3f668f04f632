//! Migrations in diesel's layout, used as they are: a folder `<version>_<name>` holding
//! `up.sql`, `down.sql` and perhaps `metadata.toml`. diesel writes the version as a timestamp
//! with dashes (`2024-01-15-093000`) and records it without them, as estate does.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::SqlFile;
use super::load::{Found, read_text};
use super::names::{file_name, version_and_description};
use crate::problem::Problem;

/// diesel's per-migration options; only `run_in_transaction` changes how a migration runs.
#[derive(Deserialize)]
struct Metadata {
    #[serde(default = "yes")]
    run_in_transaction: bool,
}

fn yes() -> bool {
    true
}

/// A diesel folder's name as a file's stem would be: `2024-01-15-093000_create_users` reads
/// as `20240115093000_create_users`, the version diesel itself records.
pub fn folder_stem(name: &str) -> String {
    let (version, rest) = name.split_once('_').unwrap_or((name, ""));
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    format!("{digits}_{rest}")
}

/// Reads the diesel-layout migration in `dir` (named `name`) into `found`.
pub(super) fn load(
    dir: &Path,
    name: &str,
    found: &mut BTreeMap<i64, Found>,
    problems: &mut Vec<Problem>,
) {
    let refuse = |problems: &mut Vec<Problem>, message: String| {
        problems.push(Problem::new(
            dir,
            message,
            "a folder in a migration set is a diesel migration: name it <version>_<name> (e.g. 2024-01-15-093000_create_users) holding up.sql and down.sql",
        ));
    };
    let (version, description) = match version_and_description(&folder_stem(name)) {
        Ok(parsed) => parsed,
        Err(message) => return refuse(problems, format!("is a folder whose name {message}")),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return refuse(problems, format!("cannot be listed: {e}"));
        }
    };
    let mut names: Vec<String> = entries.flatten().map(|e| file_name(&e.path())).collect();
    names.sort();
    let entry = found.entry(version).or_default();
    entry.descriptions.insert(description);
    entry.names.push(format!("{name}/"));
    let mut in_transaction = true;
    if names.iter().any(|n| n == "metadata.toml") {
        let path = dir.join("metadata.toml");
        let Some(text) = read_text(&path, problems) else {
            entry.broken = true;
            return;
        };
        match toml::from_str::<Metadata>(&text) {
            Ok(metadata) => in_transaction = metadata.run_in_transaction,
            Err(e) => {
                problems.push(Problem::at(
                    crate::problem::located(&path, &text, e.span()),
                    e.message().trim_end().to_string(),
                    "diesel's metadata.toml holds run_in_transaction = true or false",
                ));
                entry.broken = true;
                return;
            }
        }
    }
    for n in names
        .iter()
        .filter(|n| n.ends_with(".sql") && *n != "up.sql" && *n != "down.sql")
    {
        problems.push(Problem::new(
            &dir.join(n),
            "is not up.sql or down.sql",
            "a diesel migration folder holds up.sql and down.sql (and metadata.toml)",
        ));
        entry.broken = true;
    }
    for (file, side) in [("up.sql", &mut entry.ups), ("down.sql", &mut entry.downs)] {
        let path = dir.join(file);
        if !names.iter().any(|n| n == file) {
            problems.push(Problem::new(
                dir,
                format!("has no {file}"),
                if file == "up.sql" {
                    "add up.sql with the migration".to_string()
                } else {
                    "add down.sql that reverts up.sql: estate rolls modules back".to_string()
                },
            ));
            entry.broken = true;
            continue;
        }
        let Some(sql) = read_text(&path, problems) else {
            entry.broken = true;
            continue;
        };
        let mut sql_file = SqlFile::new(path, sql);
        if !in_transaction {
            sql_file = sql_file.outside_transaction();
        }
        side.entry(None).or_default().push(sql_file);
    }
}
