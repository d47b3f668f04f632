//! A blueprint in a migration set: `<version>_<description>.toml`, parsed and checked, then
//! rendered for every engine. Its checksum is the blueprint's own text, so a later estate that
//! renders it differently does not make an applied migration look drifted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::checksum::checksum;
use super::load::{Found, read_text};
use super::names::{file_name, version_and_description};
use super::{Migration, SqlFile};
use crate::catalog::Problem;
use crate::catalog::blueprint::{self, Blueprint};
use crate::sql::Engine;

/// Reads `<version>_<description>.toml` as a blueprint into `found`.
pub(super) fn load_blueprint(
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

impl Migration {
    /// A blueprint migration, rendered for every engine.
    pub(super) fn from_blueprint(
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
