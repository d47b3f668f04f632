//! Removing a tenant (`estate tenants remove`): refused while it has modules, the rollback of
//! all of them planned for `--rollback`, then the registry rows gone and, with
//! `--drop-database`, its database dropped.

use super::Project;
use crate::error::{Error, Result};
use crate::tenancy::Slug;

/// What `tenants remove` did: the tenant unregistered, where its database is (or was).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removal {
    pub tenant: String,
    pub database: String,
    pub dropped: bool,
    /// The removal's job, as `estate jobs` and `estate history --job` show it.
    pub job_id: String,
}

impl Project {
    /// The modules `slug` has a registry row for (installed or failed), in name order.
    pub async fn tenant_modules(&self, slug: &str) -> Result<Vec<String>> {
        let mut modules: Vec<String> = self
            .registry
            .installations()
            .await?
            .into_iter()
            .filter(|i| i.tenant == slug)
            .map(|i| i.module)
            .collect();
        modules.sort();
        Ok(modules)
    }

    /// The rollback of every module `slug` has (dependants first), which `tenants remove
    /// --rollback` runs before the removal; `None` when it has none.
    pub async fn plan_tenant_rollback(&self, slug: &str) -> Result<Option<crate::plan::Plan>> {
        let slug = Slug::parse(slug)?;
        self.known_tenant(&slug).await?;
        let modules = self.tenant_modules(slug.as_str()).await?;
        if modules.is_empty() {
            return Ok(None);
        }
        let selection = crate::plan::TenantSelection::Only(vec![slug]);
        self.plan_rollback(&modules, &selection, true)
            .await
            .map(Some)
    }

    /// Unregisters `slug`, refused while it has modules; with `drop_database`, then drops its
    /// database (file, schema or database). The registry goes first: a removal is never
    /// half-recorded over a database already gone, and a drop that fails leaves a database
    /// `estate verify` lists as unregistered, named in the error.
    pub async fn remove_tenant(&self, slug: &str, drop_database: bool) -> Result<Removal> {
        let slug = Slug::parse(slug)?;
        self.ensure_writable("removing a tenant")?;
        let tenant = self.known_tenant(&slug).await?;
        // The registry refuses a tenant that still has modules, read in its transaction.
        let job_id = crate::jobs::new_job_id();
        self.registry
            .remove_tenant(slug.as_str(), &job_id, &self.operator)
            .await?;
        let database = tenant.placement.describe();
        tracing::info!(tenant = %slug, database = %database, job = %job_id, drop_database, "tenant removed");
        if drop_database {
            tenant
                .placement
                .drop_database(&self.config)
                .await
                .map_err(|e| {
                    // Not a refusal: the tenant is unregistered by now.
                    Error::Migrator(format!(
                        "tenant {slug} is unregistered, but its database {database} could not be dropped: {e}\n  fix: drop it by hand, or register it again with `estate tenants add {slug} --existing`"
                    ))
                })?;
            tracing::info!(tenant = %slug, database = %database, "tenant database dropped");
        }
        Ok(Removal {
            tenant: slug.to_string(),
            database,
            dropped: drop_database,
            job_id,
        })
    }
}
