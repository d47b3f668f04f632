//! Tenants: the slug that names one, where its database lives, and provisioning it.
//!
//! A slug is validated before it is ever turned into a file name, a database name or a schema
//! name; that validation is what keeps every tenant database inside the configured tenant
//! folder, whatever a user types.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::database::{Database, Engine, Open};
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

/// Where one tenant's database is, as recorded in the landlord.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    pub engine: Engine,
    /// For SQLite, the file, relative to the project root when it is inside it.
    pub location: String,
}

impl Placement {
    /// Where a new tenant goes, by the config's template.
    pub fn for_new_tenant(config: &Config, slug: &Slug) -> Placement {
        let path = config.tenants.path_for(slug.as_str());
        let location = path
            .strip_prefix(&config.root)
            .map(Path::to_path_buf)
            .unwrap_or(path);
        Placement {
            engine: config.tenants.engine,
            location: location.to_string_lossy().into_owned(),
        }
    }

    /// The absolute path of a SQLite tenant file.
    pub fn path(&self, config: &Config) -> PathBuf {
        config.root.join(&self.location)
    }

    pub fn exists(&self, config: &Config) -> bool {
        Database::exists(self.engine, &self.path(config))
    }

    /// Opens the tenant's database, which must exist.
    pub async fn open(&self, config: &Config, slug: &str) -> Result<Database> {
        Database::open(
            self.engine,
            format!("tenant {slug}"),
            &self.path(config),
            Open::Existing,
        )
        .await
    }

    /// Creates the tenant's (empty) database; an existing one is kept as it is.
    pub async fn provision(&self, config: &Config, slug: &Slug) -> Result<()> {
        let db = Database::open(
            self.engine,
            format!("tenant {slug}"),
            &self.path(config),
            Open::CreateIfMissing,
        )
        .await?;
        db.close().await;
        Ok(())
    }
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
