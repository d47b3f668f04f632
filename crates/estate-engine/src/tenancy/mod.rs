//! Tenants: the slug that names one, where its database lives, and provisioning it.
//!
//! A slug is validated before it is ever turned into a file name, a database name or a schema
//! name; that validation is what keeps every tenant database inside the configured tenant
//! folder, whatever a user types. `discover` finds the tenant databases that exist where the
//! templates put them, whether the registry names them or not.

mod discover;
mod tags;

pub use discover::{Discovery, Found, discover};
pub use tags::{
    MAX_TAG_VALUE, TAG_KEY_RULE, TagCondition, Tags, check_tag_key, check_tag_value,
    format_tag_list, matches_all, parse_tag, parse_tag_list, parse_tags,
};

use std::collections::BTreeMap;
use std::path::{Component, Path};

use crate::config::{Config, Layout};
use crate::database::{Address, Database, Engine, Open};
use crate::error::{Error, Result};

pub const SLUG_RULE: &str =
    "lowercase letters, digits, _ and -, starting with a letter or digit, at most 63 characters";

/// A validated tenant slug: `[a-z0-9][a-z0-9_-]{0,62}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Slug> {
        let valid = !input.is_empty()
            && input.len() <= 63
            && input
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            return Ok(Slug(input.to_string()));
        }
        let problem = if input.is_empty() {
            "the tenant slug is empty".to_string()
        } else {
            format!("tenant slug {input:?} is not valid")
        };
        let suggestion: String = input
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .trim_start_matches(['-', '_'])
            .chars()
            .take(63)
            .collect();
        let fix = if suggestion.is_empty() || suggestion == input {
            format!("use {SLUG_RULE}, e.g. acme")
        } else {
            format!("use {SLUG_RULE}, e.g. {suggestion}")
        };
        Err(Error::refused(problem, fix))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest display name, in characters: a name is shown in every listing and the console,
/// where a longer one would only push the other columns off the screen.
pub const MAX_NAME: usize = 200;

/// Checks a tenant's display name. Any text is stored as it is typed (quotes, SQL, any script:
/// it is only ever bound as a parameter), but a blank name would list as nothing, a control
/// character would reach the operator's terminal as an escape sequence, and a very long name
/// breaks every table it is shown in.
pub fn check_name(name: &str) -> Result<()> {
    let fix = format!(
        "give a name of 1 to {MAX_NAME} characters without control characters, or leave out --name to use the slug"
    );
    let problem = if name.trim().is_empty() {
        "the tenant name is blank".to_string()
    } else if let Some(c) = name.chars().find(|c| c.is_control()) {
        format!("the tenant name contains the control character {c:?}")
    } else if name.chars().count() > MAX_NAME {
        format!(
            "the tenant name is {} characters long, more than {MAX_NAME}",
            name.chars().count()
        )
    } else {
        return Ok(());
    };
    Err(Error::refused(problem, fix))
}

/// Where one tenant's database is, as recorded in the landlord.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    pub engine: Engine,
    /// The PostgreSQL server, by its name in the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// SQLite: the file, relative to the project root when it is inside it. PostgreSQL: the
    /// database.
    pub location: String,
    /// PostgreSQL schema layout: the tenant's schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// PostgreSQL's limit on identifiers: longer names are cut silently, which could make two
/// tenants share a database.
const MAX_IDENTIFIER: usize = 63;

impl Placement {
    /// Where a new tenant goes, by the config's layout. On PostgreSQL, `server` picks the
    /// server; by default the one with the fewest tenants (`counts`, by server name).
    pub fn for_new_tenant(
        config: &Config,
        slug: &Slug,
        server: Option<&str>,
        counts: &BTreeMap<String, usize>,
    ) -> Result<Placement> {
        let layout = config.tenancy.layout;
        if layout == Layout::Sqlite {
            if let Some(name) = server {
                return Err(Error::refused(
                    format!(
                        "--server {name}: this project keeps tenants in SQLite files, on no server"
                    ),
                    "leave out --server, or set tenancy.layout to \"database\" or \"schema\"",
                ));
            }
            let path = config.tenancy.path_for(slug.as_str());
            let location = path
                .strip_prefix(&config.root)
                .map(Path::to_path_buf)
                .unwrap_or(path);
            return Ok(Placement {
                engine: Engine::Sqlite,
                server: None,
                location: location.to_string_lossy().into_owned(),
                schema: None,
            });
        }
        let server = match server {
            Some(name) => config
                .server(name)
                .ok_or_else(|| {
                    let known: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
                    Error::refused(
                        format!("no server is named {name:?}"),
                        format!("use one of: {}", known.join(", ")),
                    )
                })?
                .name
                .clone(),
            // Fewest tenants first; ties go to the first server in the config.
            None => config
                .servers
                .iter()
                .min_by_key(|s| counts.get(&s.name).copied().unwrap_or(0))
                .map(|s| s.name.clone())
                .ok_or_else(|| {
                    Error::refused(
                        "no PostgreSQL server is configured",
                        "add [[servers]] to the config",
                    )
                })?,
        };
        let database = config.tenancy.database_for(slug.as_str());
        let schema = (layout == Layout::Schema).then(|| config.tenancy.schema_for(slug.as_str()));
        for name in std::iter::once(&database).chain(schema.iter()) {
            if name.len() > MAX_IDENTIFIER {
                return Err(Error::refused(
                    format!(
                        "tenant {slug} would get the name {name:?}, longer than PostgreSQL's {MAX_IDENTIFIER} bytes"
                    ),
                    "choose a shorter slug, or a shorter tenancy template",
                ));
            }
        }
        Ok(Placement {
            engine: Engine::Postgres,
            server: Some(server),
            location: database,
            schema,
        })
    }

    /// How listings show it: a file, `pg1:tenant_acme`, or `pg1:estate_tenants.tenant_acme`.
    pub fn describe(&self) -> String {
        match (&self.server, &self.schema) {
            (Some(server), Some(schema)) => format!("{server}:{}.{schema}", self.location),
            (Some(server), None) => format!("{server}:{}", self.location),
            _ => self.location.clone(),
        }
    }

    /// The address of the tenant's database, with the server from the config. A placement
    /// outside the tenant folder, or on the landlord, is refused: the registry row it comes
    /// from may have been edited by hand, and must not aim a tenant's migrations elsewhere.
    pub fn address(&self, config: &Config) -> Result<Address> {
        let address = self.address_unchecked(config)?;
        self.confine(config, &address)?;
        Ok(address)
    }

    fn address_unchecked(&self, config: &Config) -> Result<Address> {
        match self.engine {
            Engine::Sqlite => Ok(Address::Sqlite {
                path: config.root.join(&self.location),
            }),
            Engine::Postgres => {
                let name = self.server.as_deref().unwrap_or_default();
                let server = config.server(name).ok_or_else(|| {
                    Error::refused(
                        format!("the tenant's server {name:?} is not in the config"),
                        format!(
                            "add [[servers]] named {name} back to {}",
                            config.file.display()
                        ),
                    )
                })?;
                Ok(Address::Postgres {
                    server: server.clone(),
                    database: self.location.clone(),
                    schema: self.schema.clone(),
                })
            }
        }
    }

    fn confine(&self, config: &Config, address: &Address) -> Result<()> {
        let refuse = |why: String| {
            Err(Error::refused(
                format!("the registry places a tenant at {}, {why}", self.describe()),
                "correct that tenant's row (its location) in the landlord's estate_tenants table, or remove the row; estate opens a tenant's database only inside the configured tenant folder",
            ))
        };
        match (address, &config.landlord) {
            (Address::Sqlite { path }, landlord) => {
                // Both as the config resolves them (a relative location is under the root).
                let location = config.root.join(&self.location);
                let folder = config.root.join(config.tenancy.folder());
                let escapes = location
                    .components()
                    .any(|c| matches!(c, Component::ParentDir));
                if escapes || !location.starts_with(&folder) || location == folder {
                    return refuse(format!("outside the tenant folder {}", folder.display()));
                }
                // Written the one way (no `a/./b`, no `a//b`), so two rows cannot name one
                // file differently.
                let written = Path::new(&self.location);
                if written
                    .components()
                    .collect::<std::path::PathBuf>()
                    .as_os_str()
                    != written.as_os_str()
                {
                    return refuse("written in a roundabout way".to_string());
                }
                // No folder between the tenant folder and the file may be a link elsewhere.
                for dir in location.ancestors().skip(1) {
                    if dir == folder || !dir.starts_with(&folder) {
                        break;
                    }
                    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
                        return refuse(format!("through {}, a symbolic link", dir.display()));
                    }
                }
                if let Address::Sqlite { path: landlord } = landlord
                    && same_file(path, landlord)
                {
                    return refuse("which is the landlord's database".to_string());
                }
            }
            (
                Address::Postgres {
                    server,
                    database,
                    schema,
                },
                landlord,
            ) => {
                if let Address::Postgres {
                    server: landlord_server,
                    database: landlord_database,
                    schema: landlord_schema,
                } = landlord
                    && landlord_server.name == server.name
                    && landlord_database == database
                    && (schema.is_none() || schema == landlord_schema)
                {
                    return refuse("which is the landlord's database".to_string());
                }
                if let Some(schema) = schema
                    && (schema == "public"
                        || schema == "information_schema"
                        || schema.starts_with("pg_"))
                {
                    return refuse(format!("in the schema {schema}, which is no tenant's own"));
                }
                let shared = config.tenancy.layout == Layout::Schema
                    && config.tenancy.database_template == *database;
                if shared && schema.is_none() {
                    return refuse(
                        "the database the tenants' schemas share, with no schema of its own"
                            .to_string(),
                    );
                }
            }
        }
        Ok(())
    }

    pub async fn exists(&self, config: &Config) -> Result<bool> {
        Database::exists(&self.address(config)?).await
    }

    /// Opens the tenant's database, which must exist.
    pub async fn open(&self, config: &Config, slug: &str) -> Result<Database> {
        Database::open(
            format!("tenant {slug}"),
            &self.address(config)?,
            Open::Existing,
        )
        .await
    }

    /// Creates the tenant's (empty) database or schema; an existing one is kept as it is.
    pub async fn provision(&self, config: &Config, slug: &Slug) -> Result<()> {
        let db = Database::open(
            format!("tenant {slug}"),
            &self.address(config)?,
            Open::CreateIfMissing,
        )
        .await?;
        db.close().await;
        Ok(())
    }
}

impl Placement {
    /// Drops the tenant's database: the SQLite file (with its journal files), the schema in
    /// the schema layout (never the database the schemas share), or the database. One that is
    /// already gone is fine: a removal interrupted after its drop runs again to the end.
    pub async fn drop_database(&self, config: &Config) -> Result<()> {
        match self.address(config)? {
            Address::Sqlite { path } => {
                // estate's own lock file beside it too (`database::lock`).
                for suffix in ["", "-wal", "-shm", "-journal", ".lock"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(Error::io(
                                format!("removing {}", Path::new(&file).display()),
                                e,
                            ));
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Address::Postgres {
                server,
                database,
                schema: Some(schema),
            } => server.drop_schema(&database, &schema).await,
            Address::Postgres {
                server, database, ..
            } => server.drop_database(&database).await,
        }
    }
}

/// Whether two paths name one file: the same device and inode when both exist (a hard link
/// or a symbolic link is the file it names), else the same path once resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    if let (Some(a), Some(b)) = (file_identity(a), file_identity(b)) {
        return a == b;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A file's device and inode, following links; `None` when it is not there.
pub(crate) fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["acme", "a", "0day", "acme-eu_2", &"a".repeat(63)] {
            assert!(Slug::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "Acme",
            "../x",
            "a;drop table t",
            "-a",
            "_a",
            "a b",
            "é",
            "a/b",
            "a.db",
            &"a".repeat(64),
        ] {
            let err = Slug::parse(bad).unwrap_err();
            assert!(err.is_refusal(), "{bad:?}");
        }
        let msg = Slug::parse("Acme").unwrap_err().to_string();
        assert!(msg.contains("e.g. acme"), "{msg}");
    }
}
