//! The project's configuration: `config/estate.toml` plus `ESTATE_*` environment overrides.
//!
//! Relative paths in the file are resolved against the project root, the parent of the folder
//! that holds the file, so the tool behaves the same from any working directory. Relative paths
//! given in the environment are resolved against the working directory, as a shell user expects.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use std::time::Duration;

use crate::database::{Address, Engine, Server};
use crate::error::{Error, Result};
use crate::problem::located;

/// Where the config file is looked for when neither `--config` nor `ESTATE_CONFIG` says.
pub const DEFAULT_CONFIG: &str = "config/estate.toml";

/// How many tenants a job migrates at once, unless the config says, per tenancy layout.
pub const DEFAULT_SQLITE_CONCURRENCY: usize = 4;
pub const DEFAULT_POSTGRES_CONCURRENCY: usize = 16;

/// The placeholder in the tenant path template that the tenant's slug replaces.
pub const SLUG_PLACEHOLDER: &str = "{slug}";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_contexts")]
    contexts: PathBuf,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLandlord {
    path: Option<PathBuf>,
    server: Option<String>,
    database: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenancy {
    #[serde(default)]
    layout: Layout,
    path: Option<PathBuf>,
    database: Option<String>,
    schema: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: String,
    url: String,
    password_env: Option<String>,
    /// How many of its tenants are migrated at once.
    concurrency: Option<usize>,
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
struct RawLog {
    dir: Option<PathBuf>,
    level: Option<String>,
}

fn default_contexts() -> PathBuf {
    PathBuf::from("contexts")
}

/// How tenants' databases are laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// A SQLite file per tenant (the embedded default).
    #[default]
    Sqlite,
    /// A PostgreSQL database per tenant.
    Database,
    /// A PostgreSQL schema per tenant, in one shared database per server.
    Schema,
}

impl Layout {
    pub fn engine(self) -> Engine {
        match self {
            Layout::Sqlite => Engine::Sqlite,
            Layout::Database | Layout::Schema => Engine::Postgres,
        }
    }
}

/// The resolved configuration: every path absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// The project root: relative paths in the file are relative to it.
    pub root: PathBuf,
    pub contexts: PathBuf,
    pub read_only: bool,
    /// How many tenants are migrated at once.
    pub concurrency: usize,
    /// How long a job waits for another job's lock on a database before giving up on it.
    pub lock_wait: Duration,
    pub landlord: Address,
    pub tenancy: TenancyConfig,
    /// PostgreSQL servers by name, in config order.
    pub servers: Vec<Server>,
    pub log_dir: PathBuf,
    /// A `tracing` filter directive, e.g. `info` or `estate=debug`.
    pub log_level: String,
}

/// Where tenant databases go: templates with `{slug}`.
#[derive(Debug, Clone)]
pub struct TenancyConfig {
    pub layout: Layout,
    /// SQLite: the file of each tenant.
    pub path_template: PathBuf,
    /// PostgreSQL: the database of each tenant (database layout) or the shared one (schema).
    pub database_template: String,
    /// PostgreSQL schema layout: the schema of each tenant.
    pub schema_template: String,
}

impl TenancyConfig {
    /// The database file of one tenant. The slug must already be validated
    /// ([`crate::tenancy::Slug`]), which is what keeps the result inside the tenant folder.
    pub fn path_for(&self, slug: &str) -> PathBuf {
        PathBuf::from(
            self.path_template
                .to_string_lossy()
                .replace(SLUG_PLACEHOLDER, slug),
        )
    }

    /// The folder every tenant file is in: the template's leading components, up to the one
    /// that holds the slug. No tenant database is ever opened outside it.
    pub fn folder(&self) -> PathBuf {
        self.path_template
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(SLUG_PLACEHOLDER))
            .collect()
    }

    pub fn database_for(&self, slug: &str) -> String {
        self.database_template.replace(SLUG_PLACEHOLDER, slug)
    }

    pub fn schema_for(&self, slug: &str) -> String {
        self.schema_template.replace(SLUG_PLACEHOLDER, slug)
    }
}

fn refused_in(file: &Path, problem: impl std::fmt::Display, fix: impl Into<String>) -> Error {
    Error::refused(format!("{}: {problem}", file.display()), fix)
}

impl Config {
    /// Reads the config: `explicit` (from `--config`) wins over `ESTATE_CONFIG`, which wins over
    /// [`DEFAULT_CONFIG`] in the working directory.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let from_env = std::env::var_os("ESTATE_CONFIG").map(PathBuf::from);
        let (file, how) = match (explicit, from_env) {
            (Some(p), _) => (p.to_path_buf(), "--config"),
            (None, Some(p)) => (p, "ESTATE_CONFIG"),
            (None, None) => (PathBuf::from(DEFAULT_CONFIG), "the default location"),
        };
        let file = absolute(&file)?;
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Error::refused(
                format!(
                    "cannot read the config file {} (from {how}): {e}",
                    file.display()
                ),
                "run estate from the project root, pass --config FILE or set ESTATE_CONFIG",
            )
        })?;
        let config = Self::parse(&file, &text)?;
        config.apply_env()
    }

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
        let application_name = crate::database::holder_id();
        let mut servers: Vec<Server> = Vec::new();
        for s in &raw.servers {
            if !is_valid_server_name(&s.name) {
                return Err(refused_in(
                    file,
                    format!("server name {:?} is not valid", s.name),
                    "use lowercase letters, digits, _ and -, e.g. pg1",
                ));
            }
            if servers.iter().any(|o| o.name == s.name) {
                return Err(refused_in(
                    file,
                    format!("server {} is named twice", s.name),
                    "give each [[servers]] its own name",
                ));
            }
            let server = Server::parse(
                &s.name,
                &s.url,
                s.password_env.as_deref(),
                &application_name,
            )
            .map_err(|problem| {
                refused_in(
                    file,
                    problem,
                    "write the URL as postgres://USER@HOST:PORT/DATABASE",
                )
            })?;
            let server = match s.concurrency {
                Some(0) => {
                    return Err(refused_in(
                        file,
                        format!("server {}: concurrency must be at least 1", s.name),
                        "set it to how many of the server's tenants to migrate at once, e.g. 8",
                    ));
                }
                Some(n) => server.with_concurrency(n),
                None => server,
            };
            servers.push(server);
        }
        let find = |name: &str| -> Result<Server> {
            servers
                .iter()
                .find(|s| s.name == name)
                .cloned()
                .ok_or_else(|| {
                    refused_in(
                        file,
                        format!("no server is named {name:?}"),
                        "name one of the [[servers]], or add it",
                    )
                })
        };
        let landlord = match (&raw.landlord.path, &raw.landlord.server) {
            (Some(path), None) => Address::Sqlite {
                path: root.join(path),
            },
            (None, Some(name)) => {
                let server = find(name)?;
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
        let layout = raw.tenancy.layout;
        let tenancy = TenancyConfig {
            layout,
            path_template: root.join(
                raw.tenancy
                    .path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("var/tenants/{slug}.db")),
            ),
            database_template: raw.tenancy.database.clone().unwrap_or_else(|| {
                if layout == Layout::Schema {
                    "estate_tenants".to_string()
                } else {
                    "tenant_{slug}".to_string()
                }
            }),
            schema_template: raw
                .tenancy
                .schema
                .clone()
                .unwrap_or_else(|| "tenant_{slug}".to_string()),
        };
        let config = Config {
            file: file.to_path_buf(),
            contexts: root.join(&raw.contexts),
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
            root,
        };
        config.validate()?;
        Ok(config)
    }

    fn apply_env(mut self) -> Result<Config> {
        let path = |name: &str| -> Result<Option<PathBuf>> {
            std::env::var_os(name)
                .map(|v| absolute(Path::new(&v)))
                .transpose()
        };
        if let Some(p) = path("ESTATE_CONTEXTS")? {
            self.contexts = p;
        }
        if let Some(p) = path("ESTATE_LANDLORD_PATH")? {
            self.landlord = Address::Sqlite { path: p };
        }
        if let Some(p) = path("ESTATE_TENANTS_PATH")? {
            self.tenancy.path_template = p;
        }
        if let Some(p) = path("ESTATE_LOG_DIR")? {
            self.log_dir = p;
        }
        if let Ok(level) = std::env::var("ESTATE_LOG") {
            self.log_level = level;
        }
        // The environment can make a run read-only, never undo `read_only = true` in the
        // config: a stray ESTATE_READ_ONLY= must not open a protected project to writes.
        if let Ok(v) = std::env::var("ESTATE_READ_ONLY")
            && !v.is_empty()
        {
            self.read_only |= parse_bool("ESTATE_READ_ONLY", &v)?;
        }
        if let Ok(v) = std::env::var("ESTATE_CONCURRENCY") {
            self.concurrency = v.parse().map_err(|_| {
                Error::refused(
                    format!("ESTATE_CONCURRENCY={v:?} is not a whole number"),
                    "set ESTATE_CONCURRENCY to a number of tenants to migrate at once, e.g. 4",
                )
            })?;
        }
        if let Ok(v) = std::env::var("ESTATE_LOCK_WAIT") {
            let seconds: u64 = v.parse().map_err(|_| {
                Error::refused(
                    format!("ESTATE_LOCK_WAIT={v:?} is not a whole number of seconds"),
                    "set ESTATE_LOCK_WAIT to how long to wait for another job's lock, e.g. 10",
                )
            })?;
            self.lock_wait = Duration::from_secs(seconds);
        }
        self.validate()?;
        Ok(self)
    }

    fn validate(&self) -> Result<()> {
        let file = &self.file;
        if self.concurrency == 0 {
            return Err(refused_in(
                file,
                "concurrency must be at least 1",
                "set concurrency to the number of tenants to migrate at once, e.g. 4",
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

    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// Refuses when the contexts folder is missing: every command needs the catalog.
    pub fn require_contexts_folder(&self) -> Result<()> {
        if self.contexts.is_dir() {
            return Ok(());
        }
        Err(Error::refused(
            format!(
                "the contexts folder {} does not exist (from {})",
                self.contexts.display(),
                self.file.display()
            ),
            "set `contexts` in the config (or ESTATE_CONTEXTS) to the folder that holds one folder per context, or start one with `estate new context NAME`",
        ))
    }
}

fn is_valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::refused(
            format!("{name}={value:?} is neither true nor false"),
            format!("set {name} to true or false"),
        )),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(format!("resolving {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_project_root() {
        let text =
            "[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/t/{slug}.db\"\n";
        let c = Config::parse(Path::new("/srv/app/config/estate.toml"), text).unwrap();
        assert_eq!(c.root, Path::new("/srv/app"));
        assert!(
            matches!(&c.landlord, Address::Sqlite { path } if path == Path::new("/srv/app/var/landlord.db"))
        );
        assert_eq!(c.contexts, Path::new("/srv/app/contexts"));
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
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config")
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
    fn server_urls_never_appear_in_errors() {
        let text = "[landlord]\nserver = \"pg1\"\n[tenancy]\nlayout = \"database\"\n[[servers]]\nname = \"pg1\"\nurl = \"postgres://u:hunter2@h:notaport/db\"\n";
        let err = Config::parse(Path::new("/p/config/estate.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("server pg1"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_template_without_slug_is_refused() {
        let text = "[landlord]\npath = \"x.db\"\n[tenants]\npath = \"all.db\"\n";
        let err = Config::parse(Path::new("/p/config/estate.toml"), text).unwrap_err();
        assert!(err.to_string().contains("{slug}"));
    }
}
