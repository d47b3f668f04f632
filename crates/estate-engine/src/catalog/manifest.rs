//! `context.toml`: a context's name, title, version, description and the modules it requires.
//!
//! Unknown keys are errors, and every message names the file and the line, because a typo in a
//! manifest (`require` for `requires`) must not silently drop a dependency.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Problem, REGISTRY_CONTEXT, Scope};
use crate::problem::located;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: Spanned<String>,
    title: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    description: Option<Spanned<String>>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    #[serde(default)]
    migrator: Option<RawMigrator>,
}

/// `[migrator]`: where the context's migrator is when it is not estate's SQL runner.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrator {
    /// The binary that compiles the context's Rust migrator in (`estate::App::migrator`).
    binary: Option<Spanned<String>>,
    /// A program that migrates the context by estate's migrator protocol.
    command: Option<Spanned<Vec<String>>>,
    /// The scopes the program migrates (default: the tenant's alone).
    scopes: Option<Spanned<Vec<Scope>>>,
    timeout_seconds: Option<Spanned<u64>>,
}

/// How long a command migrator may run one action, unless its manifest says.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// `[migrator] command`: a program that migrates the context (docs/MIGRATOR-PROTOCOL.md),
/// started in the context's folder with the action as its last argument.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigratorCommand {
    pub argv: Vec<String>,
    /// The scopes estate asks it about; it is never called for another.
    pub scopes: Vec<Scope>,
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    /// `file:line:column` of `command`, for messages about it.
    #[serde(skip)]
    pub at: String,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

/// A parsed, validated manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub name: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub requires: Vec<String>,
    /// `file:line:column` of each `requires` entry, for messages about it.
    #[serde(skip)]
    pub requires_at: Vec<String>,
    /// `[migrator] binary`: the binary whose Rust migrator this context needs; `None` when
    /// the context's migrations are files estate runs itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrator_binary: Option<String>,
    /// `[migrator] command`: the program that migrates this context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrator_command: Option<MigratorCommand>,
}

/// Context names become parts of identifiers and file names: `[a-z][a-z0-9_]*`, at most 63
/// characters (PostgreSQL's identifier limit).
pub fn is_valid_context_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}

impl Manifest {
    /// Parses `text`, the content of `path`, in the folder named `folder`. Problems are pushed;
    /// `None` when the manifest cannot be used at all.
    pub fn parse(
        path: &Path,
        text: &str,
        folder: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Manifest> {
        let raw: RawManifest = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(Problem::at(
                    located(path, text, e.span()),
                    e.message().trim_end().to_string(),
                    "keys are: name, title, version, description, requires, and a [migrator] table with binary, or command, scopes and timeout_seconds",
                ));
                return None;
            }
        };
        let at = |span: std::ops::Range<usize>| located(path, text, Some(span));
        let name = raw.name.get_ref().clone();
        let mut usable = true;
        if !is_valid_context_name(&name) {
            problems.push(Problem::at(
                at(raw.name.span()),
                format!("context name {name:?} is not valid"),
                "use lowercase letters, digits and _, starting with a letter, at most 63 characters",
            ));
            usable = false;
        } else if name != folder {
            problems.push(Problem::at(
                at(raw.name.span()),
                format!("name {name:?} differs from its folder {folder:?}"),
                format!("rename the folder to {name:?} or set name = {folder:?}"),
            ));
            usable = false;
        } else if name == REGISTRY_CONTEXT {
            problems.push(Problem::at(
                at(raw.name.span()),
                format!("{name:?} is reserved for estate's own module registry"),
                "choose another name for this context",
            ));
            usable = false;
        }
        if raw.version.get_ref().trim().is_empty() {
            problems.push(Problem::at(
                at(raw.version.span()),
                "version is empty",
                "set version to the context's release, e.g. \"1.0.0\"",
            ));
        }
        // Titles, versions and descriptions are printed in listings and the console: a control
        // character there would reach the operator's terminal as an escape sequence. A
        // description may run over lines.
        for (key, value, newlines) in [
            ("title", Some(&raw.title), false),
            ("version", Some(&raw.version), false),
            ("description", raw.description.as_ref(), true),
        ] {
            let Some(value) = value else { continue };
            let allowed = |c: char| newlines && matches!(c, '\n' | '\r' | '\t');
            if let Some(c) = value
                .get_ref()
                .chars()
                .find(|&c| c.is_control() && !allowed(c))
            {
                problems.push(Problem::at(
                    at(value.span()),
                    format!("{key} contains the control character {c:?}"),
                    format!("remove it from {key}"),
                ));
            }
        }
        let mut requires = Vec::new();
        let mut requires_at = Vec::new();
        for r in &raw.requires {
            let required = r.get_ref();
            if requires.contains(required) {
                problems.push(Problem::at(
                    at(r.span()),
                    format!("requires {required:?} twice"),
                    "list each required module once",
                ));
                continue;
            }
            requires.push(required.clone());
            requires_at.push(at(r.span()));
        }
        let (migrator_binary, migrator_command) = match raw.migrator {
            Some(m) => migrator(m, &at, &mut usable, problems),
            None => (None, None),
        };
        usable.then(|| Manifest {
            name,
            title: raw.title.into_inner(),
            version: raw.version.into_inner(),
            description: raw.description.map(Spanned::into_inner).unwrap_or_default(),
            requires,
            requires_at,
            migrator_binary,
            migrator_command,
        })
    }
}

/// The `[migrator]` table read: a binary's name or a command, never both; problems pushed
/// with their line.
fn migrator(
    m: RawMigrator,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
    usable: &mut bool,
    problems: &mut Vec<Problem>,
) -> (Option<String>, Option<MigratorCommand>) {
    let whole = "give [migrator] either binary = \"NAME\" (a Rust migrator) or command = [\"./migrator.sh\"] (a program), not both";
    match (m.binary, m.command) {
        (Some(binary), None) => {
            let name = binary.get_ref();
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                problems.push(Problem::at(
                    at(binary.span()),
                    format!("[migrator] binary {name:?} is not a binary's name"),
                    "name the binary that registers this context's Rust migrator, e.g. binary = \"myapp-estate\"",
                ));
            }
            for span in [
                m.timeout_seconds.map(|t| t.span()),
                m.scopes.map(|s| s.span()),
            ]
            .into_iter()
            .flatten()
            {
                problems.push(Problem::at(
                    at(span),
                    "timeout_seconds and scopes are for a command migrator; a Rust migrator runs in estate",
                    "remove them, or give a command instead of a binary",
                ));
            }
            (Some(binary.into_inner()), None)
        }
        (None, Some(command)) => {
            let span = command.span();
            let argv = command.into_inner();
            let bad = argv
                .iter()
                .any(|a| a.chars().any(|c| c.is_control() || c == '\0'));
            if argv.first().is_none_or(|p| p.trim().is_empty()) || bad {
                problems.push(Problem::at(
                    at(span.clone()),
                    format!("[migrator] command {argv:?} is not a program and its arguments"),
                    "name the program first, then its arguments, e.g. command = [\"./migrator.sh\"] (run in the context's folder)",
                ));
                *usable = false;
            }
            let timeout = match &m.timeout_seconds {
                Some(t) if *t.get_ref() == 0 => {
                    problems.push(Problem::at(
                        at(t.span()),
                        "timeout_seconds is 0",
                        "give the seconds one action may take, e.g. timeout_seconds = 600",
                    ));
                    DEFAULT_COMMAND_TIMEOUT
                }
                Some(t) => Duration::from_secs(*t.get_ref()),
                None => DEFAULT_COMMAND_TIMEOUT,
            };
            let scopes = match m.scopes {
                Some(s) if s.get_ref().is_empty() => {
                    problems.push(Problem::at(
                        at(s.span()),
                        "scopes is empty",
                        "list the scopes the program migrates: scopes = [\"tenant\"], or [\"landlord\", \"tenant\"]",
                    ));
                    Vec::new()
                }
                Some(s) => s.into_inner(),
                None => vec![Scope::Tenant],
            };
            (
                None,
                Some(MigratorCommand {
                    argv,
                    scopes,
                    timeout,
                    at: at(span),
                }),
            )
        }
        (Some(binary), Some(_)) => {
            problems.push(Problem::at(
                at(binary.span()),
                "[migrator] has both binary and command",
                whole,
            ));
            *usable = false;
            (None, None)
        }
        (None, None) => {
            let span = m.timeout_seconds.map(|t| t.span()).unwrap_or(0..0);
            problems.push(Problem::at(
                at(span),
                "[migrator] names neither binary nor command",
                whole,
            ));
            *usable = false;
            (None, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, folder: &str) -> (Option<Manifest>, Vec<Problem>) {
        let mut problems = Vec::new();
        let m = Manifest::parse(
            Path::new("contexts/x/context.toml"),
            text,
            folder,
            &mut problems,
        );
        (m, problems)
    }

    #[test]
    fn a_valid_manifest_parses() {
        let (m, p) = parse(
            "name = \"card\"\ntitle = \"Card\"\nversion = \"1.0.0\"\nrequires = [\"users\"]\n",
            "card",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(m.unwrap().requires, vec!["users"]);
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let (m, p) = parse(
            "name = \"card\"\ntitle = \"Card\"\nversion = \"1\"\nrequire = [\"users\"]\n",
            "card",
        );
        assert!(m.is_none());
        assert_eq!(p.len(), 1);
        assert!(p[0].location.ends_with("context.toml:4:1"), "{:?}", p[0]);
        assert!(p[0].message.contains("require"), "{:?}", p[0]);
    }

    #[test]
    fn name_must_match_folder_and_be_valid() {
        let (_, p) = parse("name = \"Card\"\ntitle = \"C\"\nversion = \"1\"\n", "Card");
        assert!(p[0].message.contains("not valid"));
        let (_, p) = parse("name = \"card\"\ntitle = \"C\"\nversion = \"1\"\n", "cards");
        assert!(p[0].message.contains("differs from its folder"));
        assert!(p[0].location.ends_with(":1:8"), "{:?}", p[0]);
    }

    #[test]
    fn control_characters_are_refused_where_they_would_be_printed() {
        let (m, p) = parse(
            "name = \"card\"\ntitle = \"C\\u001b[2J\"\nversion = \"1\"\n",
            "card",
        );
        assert!(
            m.is_some(),
            "the context stays in the catalog, which is invalid"
        );
        assert!(p[0].message.contains("title contains"), "{p:?}");
        assert!(p[0].location.ends_with(":2:9"), "{p:?}");
        let (m, p) = parse(
            "name = \"card\"\ntitle = \"C\"\nversion = \"1\"\ndescription = \"\"\"\nTwo\nlines\"\"\"\n",
            "card",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(m.unwrap().description, "Two\nlines");
    }

    #[test]
    fn context_names() {
        assert!(is_valid_context_name("digital_card"));
        assert!(is_valid_context_name("a1"));
        for bad in ["", "1a", "_a", "A", "a-b", "a b", "é", &"a".repeat(64)] {
            assert!(!is_valid_context_name(bad), "{bad:?}");
        }
    }
}
