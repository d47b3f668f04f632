//! Reading the config file: its TOML shape as serde reads it (unknown keys refused, with their
//! line) and the resolution of that shape into a [`Config`], every relative path joined to the
//! project root, then the checks over the whole (a tenant template without its slug, a
//! PostgreSQL layout without servers) that hold whatever the environment overrides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{
    Config, DEFAULT_POSTGRES_CONCURRENCY, DEFAULT_SQLITE_CONCURRENCY, Layout, SLUG_PLACEHOLDER,
    TenancyConfig, refused_in, servers,
};
use crate::database::Address;
use crate::error::{Error, Result};
use crate::problem::located;

/// How long the registry keeps an ended job's log lines, unless the config says otherwise.
const DEFAULT_JOB_LOG_DAYS: u32 = 90;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_contexts")]
    contexts: RawContexts,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    lock_wait_seconds: Option<u64>,
    landlord: RawLandlord,
    #[serde(alias = "tenants")]
    tenancy: RawTenancy,
    #[serde(default)]
    servers: Vec<RawServer>,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    migrators: RawMigrators,
    #[serde(default)]
    hooks: Vec<super::hooks::RawHook>,
}

/// `[migrators]`: what every command migrator gets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrators {
    /// Variables of estate's environment passed on by name (the rest is cleared).
    #[serde(default)]
    pass_env: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLandlord {
    pub(super) path: Option<PathBuf>,
    pub(super) server: Option<String>,
    pub(super) database: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenancy {
    #[serde(default)]
    pub(super) layout: Layout,
    pub(super) path: Option<PathBuf>,
    pub(super) database: Option<String>,
    pub(super) schema: Option<String>,
    /// Modules every new tenant gets (`tenants add`, `tenants import --install-defaults`).
    #[serde(default)]
    pub(super) default_modules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) name: String,
    pub(super) url: String,
    pub(super) password_env: Option<String>,
    /// How many of its tenants are migrated at once.
    pub(super) concurrency: Option<usize>,
    /// How long a connection may take (default 5).
    pub(super) connect_timeout_seconds: Option<u64>,
    /// How long one statement may run (default: as long as it needs).
    pub(super) statement_timeout_seconds: Option<u64>,
}

/// Its URL may hold a password: `Debug` leaves it out.
impl std::fmt::Debug for RawServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawServer")
            .field("name", &self.name)
            .field("url", &"<redacted>")
            .field("password_env", &self.password_env)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) dir: Option<PathBuf>,
    pub(super) level: Option<String>,
    pub(super) job_log_days: Option<u32>,
}

/// `contexts = "contexts"`, or several folders read as one catalog:
/// `contexts = ["contexts", "../shared/contexts"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawContexts {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

fn default_contexts() -> RawContexts {
    RawContexts::One(PathBuf::from("contexts"))
}

impl Config {
    /// Parses the text of a config file that lives at `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            Error::refused(
                format!("{}: {}", located(file, text, e.span()), e.message().trim_end()),
                "correct the config file; config/estate.toml and config/postgres-*.toml in the estate repository show every key",
            )
        })?;
        let root = file
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let tenancy = TenancyConfig::resolve(&root, &raw.tenancy);
        let layout = tenancy.layout;
        let servers = servers::read(file, &raw.servers, layout)?;
        let landlord = match (&raw.landlord.path, &raw.landlord.server) {
            (Some(path), None) => Address::Sqlite {
                path: root.join(path),
            },
            (None, Some(name)) => {
                let server = servers::named(file, &servers, name)?;
                let database = raw
                    .landlord
                    .database
                    .clone()
                    .unwrap_or_else(|| server.default_database());
                Address::Postgres {
                    server,
                    database,
                    schema: None,
                }
            }
            _ => {
                return Err(refused_in(
                    file,
                    "[landlord] needs either path (SQLite) or server (PostgreSQL)",
                    "set path = \"var/landlord.db\", or server = \"pg1\" with an optional database",
                ));
            }
        };
        let config = Config {
            file: file.to_path_buf(),
            contexts: match &raw.contexts {
                RawContexts::One(p) => vec![root.join(p)],
                RawContexts::Many(ps) => ps.iter().map(|p| root.join(p)).collect(),
            },
            read_only: raw.read_only,
            concurrency: raw.concurrency.unwrap_or(match layout {
                // One file per tenant: the disk, not the CPU, is what concurrency shares.
                Layout::Sqlite => DEFAULT_SQLITE_CONCURRENCY,
                // Servers bound each their own share (`[[servers]] concurrency`).
                Layout::Database | Layout::Schema => DEFAULT_POSTGRES_CONCURRENCY,
            }),
            lock_wait: Duration::from_secs(raw.lock_wait_seconds.unwrap_or(10)),
            landlord,
            tenancy,
            servers,
            log_dir: root.join(raw.log.dir.unwrap_or_else(|| PathBuf::from("var/log"))),
            log_level: raw.log.level.unwrap_or_else(|| "info".to_string()),
            job_log_days: raw.log.job_log_days.unwrap_or(DEFAULT_JOB_LOG_DAYS),
            pass_env: raw.migrators.pass_env,
            hooks: super::hooks::read(file, &root, &raw.hooks)?,
            root,
        };
        config.validate()?;
        Ok(config)
    }

    /// The checks over the whole, run again after the environment had its say.
    pub(super) fn validate(&self) -> Result<()> {
        let file = &self.file;
        if self.contexts.is_empty() {
            return Err(refused_in(
                file,
                "contexts is an empty list",
                "set contexts to a folder, or a list of folders, that hold one folder per context, e.g. \"contexts\"",
            ));
        }
        if self.concurrency == 0 {
            return Err(refused_in(
                file,
                "concurrency must be at least 1",
                "set concurrency to the number of tenants to migrate at once, e.g. 4",
            ));
        }
        if let Some(bad) = self.pass_env.iter().find(|n| !is_passable(n)) {
            return Err(refused_in(
                file,
                format!("migrators.pass_env names {bad:?}, which cannot be passed on"),
                "name variables of letters, digits and _ (not starting with a digit); ESTATE_* and PG* are estate's to set",
            ));
        }
        let t = &self.tenancy;
        let (key, template) = match t.layout {
            Layout::Sqlite => (
                "tenancy.path",
                t.path_template.to_string_lossy().into_owned(),
            ),
            Layout::Database => ("tenancy.database", t.database_template.clone()),
            Layout::Schema => ("tenancy.schema", t.schema_template.clone()),
        };
        if !template.contains(SLUG_PLACEHOLDER) {
            return Err(refused_in(
                file,
                format!(
                    "{key} {template:?} has no {SLUG_PLACEHOLDER} placeholder, so every tenant would share one database"
                ),
                format!("put {{slug}} in {key}, e.g. \"tenant_{{slug}}\""),
            ));
        }
        if t.layout != Layout::Sqlite && self.servers.is_empty() {
            return Err(refused_in(
                file,
                format!(
                    "layout {:?} puts tenants on PostgreSQL, but no [[servers]] are configured",
                    t.layout
                ),
                "add [[servers]] with a name and a url (see config/postgres-database.toml)",
            ));
        }
        Ok(())
    }
}

/// A variable a program may be handed from estate's environment: a plain name, and not one
/// the protocol sets (a passed-on PGPASSWORD would beat the server's own).
fn is_passable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("ESTATE_")
        && !name.starts_with("PG")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_contexts_folders_are_read_in_order_and_an_empty_list_is_refused() {
        let file = Path::new("/srv/app/config/estate.toml");
        let body = "[landlord]\npath = \"l.db\"\n[tenancy]\npath = \"t/{slug}.db\"\n";
        let c = Config::parse(
            file,
            &format!("contexts = [\"contexts\", \"../shared/contexts\"]\n{body}"),
        )
        .unwrap();
        assert_eq!(
            c.contexts,
            [
                Path::new("/srv/app/contexts"),
                Path::new("/srv/app/../shared/contexts")
            ]
        );
        assert_eq!(c.contexts_home(), Path::new("/srv/app/contexts"));
        let err = Config::parse(file, &format!("contexts = []\n{body}")).unwrap_err();
        assert!(
            err.to_string().contains("contexts is an empty list"),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_project_root() {
        let text =
            "[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/t/{slug}.db\"\n";
        let c = Config::parse(Path::new("/srv/app/config/estate.toml"), text).unwrap();
        assert_eq!(c.root, Path::new("/srv/app"));
        assert!(
            matches!(&c.landlord, Address::Sqlite { path } if path == Path::new("/srv/app/var/landlord.db"))
        );
        assert_eq!(c.contexts, [Path::new("/srv/app/contexts")]);
        assert_eq!(
            c.tenancy.path_for("acme"),
            Path::new("/srv/app/var/t/acme.db")
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let text = "[landlord]\npath = \"x.db\"\ncolour = 1\n[tenants]\npath = \"{slug}.db\"\n";
        let err = Config::parse(Path::new("/p/config/estate.toml"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/p/config/estate.toml:3:1"), "{msg}");
        assert!(msg.contains("colour"), "{msg}");
        assert!(err.is_refusal());
    }

    #[test]
    fn the_example_configs_parse() {
        for name in [
            "estate.toml",
            "postgres-database.toml",
            "postgres-schema.toml",
        ] {
            // The examples are the project's own config/, two folders above the engine crate.
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../config")
                .join(name);
            let text = std::fs::read_to_string(&file).unwrap();
            let c = Config::parse(&file, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                c.servers.len(),
                if name == "estate.toml" { 0 } else { 2 },
                "{name}"
            );
        }
    }

    #[test]
    fn a_template_without_slug_is_refused() {
        let text = "[landlord]\npath = \"x.db\"\n[tenants]\npath = \"all.db\"\n";
        let err = Config::parse(Path::new("/p/config/estate.toml"), text).unwrap_err();
        assert!(err.to_string().contains("{slug}"));
    }
}
