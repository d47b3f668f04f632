//! What the console shows: one snapshot of the catalog and the registry, loaded in a handful of
//! queries, never one per view.

use crate::catalog::Scope;
use crate::error::Result;
use crate::project::{Project, StatusRow};
use crate::registry::{HistoryEntry, Installation, JobRecord, TenantRecord};

/// One module of the catalog as the Modules view lists it.
#[derive(Debug, Clone)]
pub struct ModuleRow {
    pub name: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub requires: Vec<String>,
    pub required_by: Vec<String>,
    pub landlord_migrations: usize,
    pub tenant_migrations: usize,
    pub tenants: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where the project is, for the title bar.
    pub project: String,
    pub modules: Vec<ModuleRow>,
    pub tenants: Vec<TenantRecord>,
    pub installs: Vec<Installation>,
    pub status: Vec<StatusRow>,
    pub history: Vec<HistoryEntry>,
    pub jobs: Vec<JobRecord>,
    /// Problems in the contexts, shown in the status bar.
    pub problems: usize,
}

impl Snapshot {
    pub async fn load(project: &Project) -> Result<Snapshot> {
        let installs = project.registry.installations().await?;
        let engine = project.config.tenancy.layout.engine();
        let modules = project
            .catalog
            .contexts
            .values()
            .map(|c| {
                let count = |s| {
                    project
                        .migrator(c.name())
                        .map_or(0, |m| m.migrations(s, engine).len())
                };
                ModuleRow {
                    name: c.name().to_string(),
                    title: c.manifest.title.clone(),
                    version: c.manifest.version.clone(),
                    description: c.manifest.description.clone(),
                    requires: c.manifest.requires.clone(),
                    required_by: project.catalog.graph.required_by(c.name()).to_vec(),
                    landlord_migrations: count(Scope::Landlord),
                    tenant_migrations: count(Scope::Tenant),
                    tenants: installs.iter().filter(|i| i.module == c.name()).count(),
                }
            })
            .collect();
        Ok(Snapshot {
            project: project.config.root.display().to_string(),
            modules,
            tenants: project.tenants().await?,
            status: project.status(None).await?,
            history: project.history(None, None, Some(500)).await?,
            jobs: project.registry.jobs(200).await?,
            installs,
            problems: project.catalog.problems.len(),
        })
    }
}
