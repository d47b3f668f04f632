//! The `[tenancy]` section: how tenants' databases are laid out, and the templates that make a
//! tenant's file, database or schema name from its slug. The slug is validated (by tenancy,
//! above) before it ever reaches a template: that is what keeps a tenant inside its folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::SLUG_PLACEHOLDER;
use super::parse::RawTenancy;
use crate::database::Engine;

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
    /// The modules a new tenant is given, with what they require, as one install job.
    pub default_modules: Vec<String>,
}

impl TenancyConfig {
    /// The database file of one tenant. The slug must already be validated
    /// (tenancy's `Slug`), which is what keeps the result inside the tenant folder.
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

impl TenancyConfig {
    /// The section as written, each template left out given its default for the layout.
    pub(super) fn resolve(root: &Path, raw: &RawTenancy) -> TenancyConfig {
        let layout = raw.layout;
        TenancyConfig {
            layout,
            path_template: root.join(
                raw.path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("var/tenants/{slug}.db")),
            ),
            database_template: raw.database.clone().unwrap_or_else(|| {
                if layout == Layout::Schema {
                    "estate_tenants".to_string()
                } else {
                    "tenant_{slug}".to_string()
                }
            }),
            schema_template: raw
                .schema
                .clone()
                .unwrap_or_else(|| "tenant_{slug}".to_string()),
            default_modules: raw.default_modules.clone(),
        }
    }
}
