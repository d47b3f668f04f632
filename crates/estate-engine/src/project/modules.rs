//! The catalog as operators read it: one summary per module, shared by `estate modules
//! --json` and the console's Modules view.

use serde::Serialize;

use crate::catalog::Scope;
use crate::error::Result;
use crate::migrator::MigrationInfo;

use super::{Matrix, ModuleState, Project};

/// One module of the catalog with what the registry knows of it.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleSummary {
    pub name: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub requires: Vec<String>,
    pub required_by: Vec<String>,
    /// How many migrations each scope has (on the configured tenant engine).
    pub migrations: PerScope<usize>,
    /// The tables the module owns in each scope: the responsibility matrix.
    pub tables: PerScope<Vec<String>>,
    /// How many tenants have it installed (or failed).
    pub tenants: usize,
    /// The migrations themselves, for the console's detail view.
    #[serde(skip)]
    pub sets: PerScope<Vec<MigrationInfo>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PerScope<T> {
    pub landlord: T,
    pub tenant: T,
}

impl<T> PerScope<T> {
    fn of(f: impl Fn(Scope) -> T) -> Self {
        PerScope {
            landlord: f(Scope::Landlord),
            tenant: f(Scope::Tenant),
        }
    }
}

impl Project {
    /// Every module of the catalog, by name.
    pub async fn modules(&self) -> Result<Vec<ModuleSummary>> {
        let counts = self.registry.installation_counts().await?;
        Ok(self.summaries(|name| counts.get(name).copied().unwrap_or(0)))
    }

    /// The same, each module's tenants counted in `matrix`, read already, rather than asked
    /// of the registry again (a scan of every installation at 100,000 of them).
    pub fn modules_in(&self, matrix: &Matrix) -> Vec<ModuleSummary> {
        // One pass over the cells, a row after another as they are stored: a pass per
        // module would stride through millions of them once for each.
        let width = matrix.modules.len();
        let mut per_module = vec![0usize; width];
        for t in 0..matrix.tenants.len() {
            for (m, cell) in matrix.row(t).iter().enumerate() {
                per_module[m] += usize::from(cell.state != ModuleState::NotInstalled);
            }
        }
        let counts: std::collections::HashMap<&str, usize> = matrix
            .modules
            .iter()
            .map(String::as_str)
            .zip(per_module)
            .collect();
        self.summaries(|name| counts.get(name).copied().unwrap_or(0))
    }

    fn summaries(&self, tenants: impl Fn(&str) -> usize) -> Vec<ModuleSummary> {
        let engine = self.config.tenancy.layout.engine();
        self.catalog
            .contexts
            .values()
            .map(|c| {
                let name = c.name();
                let sets = PerScope::of(|s| {
                    self.migrator(name)
                        .map(|m| m.migrations(s, engine))
                        .unwrap_or_default()
                });
                ModuleSummary {
                    name: name.to_string(),
                    title: c.manifest.title.clone(),
                    version: c.manifest.version.clone(),
                    description: c.manifest.description.clone(),
                    requires: c.manifest.requires.clone(),
                    required_by: self.catalog.graph.required_by(name).to_vec(),
                    migrations: PerScope {
                        landlord: sets.landlord.len(),
                        tenant: sets.tenant.len(),
                    },
                    tables: PerScope::of(|s| self.catalog.tables.names(name, s)),
                    tenants: tenants(name),
                    sets,
                }
            })
            .collect()
    }
}
