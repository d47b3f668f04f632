//! `estate status`: the installation matrix read from every selected tenant's ledger, each
//! unreadable tenant shown unreachable with why while the others still show.

use std::collections::BTreeMap;

use super::{ModuleState, Project, StatusRow};
use crate::catalog::Scope;
use crate::error::Result;
use crate::plan::TenantSelection;
use crate::registry::TenantRecord;
use crate::tenancy::Slug;

impl Project {
    /// The installation matrix: every selected tenant × every module of the catalog.
    pub async fn status(&self, tenant: Option<&str>) -> Result<Vec<StatusRow>> {
        let selection = match tenant {
            Some(slug) => TenantSelection::Only(vec![Slug::parse(slug)?]),
            None => TenantSelection::All,
        };
        self.status_of(&selection).await
    }

    /// The installation matrix of the tenants `selection` names.
    pub async fn status_of(&self, selection: &TenantSelection) -> Result<Vec<StatusRow>> {
        let tenants = self.planner().resolve_tenants(selection).await?;
        let installs = self.registry.installations_by_key().await?;
        let landlord = self.registry.landlord();
        let mut landlord_status = BTreeMap::new();
        for (name, migrator) in &self.migrators {
            landlord_status.insert(
                name.clone(),
                migrator.status(Scope::Landlord, landlord).await?,
            );
        }
        let mut rows = Vec::new();
        for t in &tenants {
            // A tenant whose database cannot be opened or read (gone, corrupt, its server
            // down) shows its installed modules unreachable, with why; the others still show.
            let read = self.tenant_statuses(t).await;
            let error = read.as_ref().err().map(|e| {
                tracing::warn!(tenant = %t.slug, error = %e, "tenant database unreadable for status");
                e.to_string()
            });
            for (name, migrator) in &self.migrators {
                let install = installs.get(&(t.slug.clone(), name.clone()));
                let Some(install) = install else {
                    rows.push(StatusRow {
                        tenant: t.slug.clone(),
                        module: name.clone(),
                        state: ModuleState::NotInstalled,
                        applied: 0,
                        pending: 0,
                        error: None,
                    });
                    continue;
                };
                let landlord = &landlord_status[name];
                let (mut applied, mut pending) = (landlord.applied.len(), landlord.pending.len());
                match read.as_ref().map(|statuses| &statuses[name]) {
                    Ok(s) => {
                        applied += s.applied.len();
                        pending += s.pending.len();
                    }
                    Err(_) => {
                        pending += migrator.migrations(Scope::Tenant, t.placement.engine).len()
                    }
                }
                let state = ModuleState::of(Some(install.state), pending, read.is_ok());
                rows.push(StatusRow {
                    tenant: t.slug.clone(),
                    module: name.clone(),
                    state,
                    applied,
                    pending,
                    error: (state == ModuleState::Unreachable)
                        .then(|| error.clone())
                        .flatten(),
                });
            }
        }
        Ok(rows)
    }

    /// Every module's tenant-scope status on `tenant`'s database, read once it is opened.
    async fn tenant_statuses(
        &self,
        tenant: &TenantRecord,
    ) -> Result<BTreeMap<String, crate::migrator::ScopeStatus>> {
        let db = tenant.placement.open(&self.config, &tenant.slug).await?;
        let mut out = BTreeMap::new();
        let mut failure = None;
        for (name, migrator) in &self.migrators {
            match migrator.status(Scope::Tenant, &db).await {
                Ok(status) => {
                    out.insert(name.clone(), status);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        db.close().await;
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}
