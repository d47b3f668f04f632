//! `estate_tenant_modules`: which module is installed for which tenant, and how far.
//!
//! Each row also keeps the tenant-scope version its last job applied and a digest of the files
//! up to it (`migrator::Applied`), so the planner and the matrix can tell "up to date" from
//! the registry alone, without opening a thousand tenant databases.

use std::collections::BTreeMap;

use super::Registry;
use crate::database::Pool;
use crate::error::Result;

/// Whether a module is installed for a tenant, or its last install/upgrade/rollback failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallState {
    Installed,
    Failed,
}

impl InstallState {
    pub(super) fn parse(s: &str) -> InstallState {
        if s == "installed" {
            InstallState::Installed
        } else {
            InstallState::Failed
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            InstallState::Installed => "installed",
            InstallState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Installation {
    pub tenant: String,
    pub module: String,
    pub state: InstallState,
    pub module_version: String,
    pub installed_at: Option<String>,
    pub updated_at: String,
    pub error: Option<String>,
    /// The highest tenant-scope migration applied, as the last job left it; `None` when not
    /// recorded (the ledger knows).
    pub applied_version: Option<i64>,
    /// The digest of what is applied up to `applied_version` (see `migrator::Applied`).
    pub applied_digest: Option<String>,
}

/// What the matrix reads of the installations: `tenant module state version` items,
/// comma-separated, the version empty where the registry does not know it. Slugs and module
/// names (letters, digits, `-`, `_`) and states hold neither separator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallationStates {
    packed: String,
}

impl InstallationStates {
    /// Each installation: its tenant, module, state and applied version.
    pub fn each(&self) -> impl Iterator<Item = (&str, &str, InstallState, Option<i64>)> {
        self.packed
            .split(',')
            .filter(|item| !item.is_empty())
            .filter_map(|item| {
                let mut parts = item.splitn(4, ' ');
                let (tenant, module) = (parts.next()?, parts.next()?);
                let (state, version) = (parts.next()?, parts.next()?);
                Some((
                    tenant,
                    module,
                    InstallState::parse(state),
                    version.parse().ok(),
                ))
            })
    }
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    tenant: String,
    module: String,
    state: String,
    module_version: String,
    installed_at: Option<String>,
    updated_at: String,
    error: Option<String>,
    applied_version: Option<i64>,
    applied_digest: Option<String>,
}

impl From<InstallationRow> for Installation {
    fn from(r: InstallationRow) -> Installation {
        Installation {
            tenant: r.tenant,
            module: r.module,
            state: InstallState::parse(&r.state),
            module_version: r.module_version,
            installed_at: r.installed_at,
            updated_at: r.updated_at,
            error: r.error,
            applied_version: r.applied_version,
            applied_digest: r.applied_digest,
        }
    }
}

impl Registry {
    /// Every installation of every tenant, in one query.
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<InstallationRow> = sqlx::query_as(
                "SELECT tenant, module, state, module_version, installed_at, updated_at, error,
                   applied_version, applied_digest
                 FROM estate_tenant_modules ORDER BY tenant, module",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(Installation::from).collect())
        })
    }

    /// Every installation, by (tenant, module).
    pub async fn installations_by_key(&self) -> Result<BTreeMap<(String, String), Installation>> {
        Ok(self
            .installations()
            .await?
            .into_iter()
            .map(|i| ((i.tenant.clone(), i.module.clone()), i))
            .collect())
    }

    /// Every installation's state and applied version: what the matrix needs for thousands
    /// of tenants, without the columns it does not show. Rows, not bytes, are what a fetch
    /// costs (at 100,000 installations, one row each was half the console's first frame), so
    /// they come packed in one text, read in one pass of the table.
    pub async fn installation_states(&self) -> Result<InstallationStates> {
        let packed: Option<String> = match &self.db.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar(
                "SELECT group_concat(tenant || ' ' || module || ' ' || state || ' ' || COALESCE(applied_version, ''), ',')
                   FROM estate_tenant_modules",
            )
            .fetch_one(pool)
            .await,
            Pool::Postgres(pool) => sqlx::query_scalar(
                "SELECT string_agg(tenant || ' ' || module || ' ' || state || ' ' || COALESCE(applied_version::text, ''), ',')
                   FROM estate_tenant_modules",
            )
            .fetch_one(pool)
            .await,
        }
        .map_err(|e| self.err(e))?;
        Ok(InstallationStates {
            packed: packed.unwrap_or_default(),
        })
    }

    /// How many tenants have each module (installed or failed).
    pub async fn installation_counts(&self) -> Result<BTreeMap<String, usize>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT module, COUNT(*) FROM estate_tenant_modules GROUP BY module",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(|(m, n)| (m, n as usize)).collect())
        })
    }

    /// Up to `limit` tenants the registry has `module` for, installed or failed (a failed
    /// install is an intent `estate migrate` finishes): while one is left, the module's
    /// landlord scope stays.
    pub async fn keepers(&self, module: &str, limit: i64) -> Result<Vec<String>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT tenant FROM estate_tenant_modules WHERE module = $1 ORDER BY tenant LIMIT $2",
            )
            .bind(module)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
    }
}
