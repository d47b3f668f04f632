//! The installation matrix (tenants × modules) read from the registry alone: one query over
//! `estate_tenant_modules` plus the landlord's ledger, never one connection per tenant, so the
//! console opens, and `estate status` answers, on a hundred thousand tenants as fast as on
//! three. Cells are stored densely, a tenant row after another, so a lookup costs an index.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::catalog::Scope;
use crate::error::Result;
use crate::plan::TenantSelection;
use crate::registry::{InstallState, TenantRecord};
use crate::sql::Engine;

use super::Project;

/// One row of the installation matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    pub tenant: String,
    pub module: String,
    pub state: ModuleState,
    /// Migrations of the module applied for this tenant (its tenant scope and the landlord's).
    pub applied: usize,
    /// Migrations of the module not yet applied there.
    pub pending: usize,
    /// Why the tenant's database could not be read, for an unreachable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleState {
    Installed,
    Outdated,
    Failed,
    NotInstalled,
    /// Installed, as the registry says, on a database that could not be read now (gone,
    /// corrupt, its server down): a finding for that tenant, not a failed module.
    Unreachable,
}

impl ModuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleState::Installed => "installed",
            ModuleState::Outdated => "outdated",
            ModuleState::Failed => "failed",
            ModuleState::NotInstalled => "not_installed",
            ModuleState::Unreachable => "unreachable",
        }
    }

    /// The state of an installation with `pending` migrations left; `reachable` is false when
    /// the tenant's database could not be read.
    pub(super) fn of(install: Option<InstallState>, pending: usize, reachable: bool) -> Self {
        match install {
            None => ModuleState::NotInstalled,
            Some(InstallState::Failed) => ModuleState::Failed,
            Some(_) if !reachable => ModuleState::Unreachable,
            Some(_) if pending > 0 => ModuleState::Outdated,
            Some(_) => ModuleState::Installed,
        }
    }
}

/// One cell: the state and how many migrations are pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixCell {
    pub state: ModuleState,
    pub applied: u32,
    pub pending: u32,
}

const NOT_INSTALLED: MatrixCell = MatrixCell {
    state: ModuleState::NotInstalled,
    applied: 0,
    pending: 0,
};

/// Every tenant × every module, as the registry records it.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub tenants: Vec<TenantRecord>,
    pub modules: Vec<String>,
    cells: Vec<MatrixCell>,
}

impl Matrix {
    /// The cell of tenant `t` and module `m` (indexes into `tenants` and `modules`).
    pub fn cell(&self, t: usize, m: usize) -> MatrixCell {
        self.cells
            .get(t * self.modules.len() + m)
            .copied()
            .unwrap_or(NOT_INSTALLED)
    }

    /// Replaces one cell (the console shows a job's progress before it reloads).
    pub fn set(&mut self, t: usize, m: usize, cell: MatrixCell) {
        let n = self.modules.len();
        if let Some(c) = self.cells.get_mut(t * n + m) {
            *c = cell;
        }
    }

    /// A tenant's row.
    pub fn row(&self, t: usize) -> &[MatrixCell] {
        let n = self.modules.len();
        self.cells.get(t * n..(t + 1) * n).unwrap_or(&[])
    }

    /// How many tenants have `m` in each state.
    pub fn count(&self, m: usize, state: ModuleState) -> usize {
        (0..self.tenants.len())
            .filter(|t| self.cell(*t, m).state == state)
            .count()
    }

    /// Keeps the rows of the tenants `keep` says yes to.
    pub fn keep_tenants(&mut self, keep: impl Fn(&str) -> bool) {
        let n = self.modules.len();
        let mut cells = Vec::with_capacity(self.cells.len());
        let mut tenants = Vec::new();
        for (t, tenant) in std::mem::take(&mut self.tenants).into_iter().enumerate() {
            if keep(&tenant.slug) {
                cells.extend_from_slice(self.cells.get(t * n..(t + 1) * n).unwrap_or(&[]));
                tenants.push(tenant);
            }
        }
        self.tenants = tenants;
        self.cells = cells;
    }

    /// The matrix as the rows `estate status` prints.
    pub fn rows(&self) -> Vec<StatusRow> {
        let mut out = Vec::with_capacity(self.cells.len());
        for (t, tenant) in self.tenants.iter().enumerate() {
            for (m, module) in self.modules.iter().enumerate() {
                let c = self.cell(t, m);
                out.push(StatusRow {
                    tenant: tenant.slug.clone(),
                    module: module.clone(),
                    state: c.state,
                    applied: c.applied as usize,
                    pending: c.pending as usize,
                    error: None,
                });
            }
        }
        out
    }
}

impl Project {
    /// The installation matrix from the registry: pending counts come from the version each
    /// tenant's last job recorded. Installations recorded before estate kept that version are
    /// read from their tenant's ledger instead.
    pub async fn matrix(&self) -> Result<Matrix> {
        self.matrix_asking(false).await
    }

    /// The matrix; with `ask_programs`, the cells of modules run by a program of their own
    /// are read from their tenant's database, since only the program knows its migrations
    /// (the console leaves them at what the registry says, to open at once).
    async fn matrix_asking(&self, ask_programs: bool) -> Result<Matrix> {
        // Side by side, each on a connection of the registry's read-only handle (on SQLite;
        // PostgreSQL's pool has connections to spare).
        let (tenants, installs) =
            tokio::try_join!(self.registry.tenants(), self.registry.installation_states())?;
        let modules: Vec<String> = self.migrators.keys().cloned().collect();
        let landlord = self.registry.landlord();
        // (applied, pending) of each module's landlord scope, and its tenant versions by engine.
        let mut landlord_counts = Vec::with_capacity(modules.len());
        // Indexed by engine (as in `Engine::ALL`), then version.
        let mut versions: Vec<Vec<Vec<i64>>> = Vec::new();
        for name in &modules {
            let migrator = &self.migrators[name];
            let s = migrator.status(Scope::Landlord, landlord).await?;
            landlord_counts.push((s.applied.len(), s.pending.len()));
            versions.push(
                Engine::ALL
                    .iter()
                    .map(|e| {
                        let v = migrator.migrations(Scope::Tenant, *e);
                        v.iter().map(|i| i.version).collect()
                    })
                    .collect(),
            );
        }
        // Rows and columns by name, borrowed: ten thousand tenants cost no string copies.
        let tenant_at: HashMap<&str, usize> = tenants
            .iter()
            .enumerate()
            .map(|(i, t)| (t.slug.as_str(), i))
            .collect();
        let module_at: HashMap<&str, usize> = modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.as_str(), i))
            .collect();
        let width = modules.len();
        let mut cells = vec![NOT_INSTALLED; tenants.len() * width];
        // Tenants with a cell the registry cannot answer alone, and those cells.
        let mut unknown: BTreeMap<usize, Vec<(usize, InstallState)>> = BTreeMap::new();
        let engine_at = |e: Engine| Engine::ALL.iter().position(|x| *x == e).unwrap_or(0);
        let asks: Vec<bool> = modules
            .iter()
            .map(|m| ask_programs && self.migrators[m].keeps_own_ledger())
            .collect();
        // A million rows come a tenant's after another: its lookup is made once for them.
        let mut last: Option<(&str, Option<usize>)> = None;
        let mut last_m: Option<usize> = None;
        for (tenant, module, state, applied_version) in installs.each() {
            let t = match last {
                Some((slug, t)) if slug == tenant => t,
                _ => {
                    let t = tenant_at.get(tenant).copied();
                    last = Some((tenant, t));
                    t
                }
            };
            // In tenant order, a tenant's modules come in the catalog's (sorted) order: the
            // next module is tried before the lookup.
            let next = last_m.map_or(0, |m| m + 1);
            let m = match modules.get(next) {
                Some(name) if name == module => Some(next),
                _ => module_at.get(module).copied(),
            };
            last_m = m;
            // A row of a removed tenant, or a module no longer in the catalog.
            let (Some(t), Some(m)) = (t, m) else {
                continue;
            };
            let (mut applied, mut pending) = landlord_counts[m];
            match applied_version.filter(|_| !asks[m]) {
                Some(v) => {
                    let known = &versions[m][engine_at(tenants[t].placement.engine)];
                    let below = known.partition_point(|k| *k <= v);
                    applied += below;
                    pending += known.len() - below;
                }
                None => unknown.entry(t).or_default().push((m, state)),
            }
            cells[t * width + m] = MatrixCell {
                state: ModuleState::of(Some(state), pending, true),
                applied: applied as u32,
                pending: pending as u32,
            };
        }
        for (t, missing) in unknown {
            let row = &mut cells[t * width..(t + 1) * width];
            self.read_ledgers(&tenants[t], &modules, &missing, row)
                .await;
        }
        Ok(Matrix {
            tenants,
            modules,
            cells,
        })
    }

    /// `estate status`: the matrix rows of the tenants `selection` names, from the registry
    /// (as of each tenant's last job), but for modules run by a program of their own, which
    /// is asked. [`Project::status_of`] reads every ledger.
    pub async fn recorded_status_of(&self, selection: &TenantSelection) -> Result<Vec<StatusRow>> {
        let chosen: Option<HashSet<String>> = match selection {
            TenantSelection::All => None,
            // Resolved first: an unknown slug or a `--where` nobody meets is refused as
            // everywhere else, before the matrix is read.
            _ => Some(
                self.planner()
                    .resolve_tenants(selection)
                    .await?
                    .into_iter()
                    .map(|t| t.slug)
                    .collect(),
            ),
        };
        let mut matrix = self.matrix_asking(true).await?;
        if let Some(chosen) = chosen {
            matrix.keep_tenants(|slug| chosen.contains(slug));
        }
        Ok(matrix.rows())
    }

    /// Fills the cells `missing` (module index, state) of one tenant's row from its ledger.
    async fn read_ledgers(
        &self,
        tenant: &TenantRecord,
        modules: &[String],
        missing: &[(usize, InstallState)],
        row: &mut [MatrixCell],
    ) {
        let db = match tenant.placement.open(&self.config, &tenant.slug).await {
            Ok(db) => Some(db),
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "tenant database unavailable for status");
                None
            }
        };
        for &(m, state) in missing {
            let migrator = &self.migrators[&modules[m]];
            let cell = &mut row[m];
            let read = match &db {
                Some(db) => migrator.status(Scope::Tenant, db).await.map_err(|e| {
                    // One module's unreadable status (its program failing there) is that
                    // cell's finding, not the matrix's.
                    tracing::warn!(tenant = %tenant.slug, module = %modules[m], error = %e, "module status unreadable");
                }),
                None => Err(()),
            };
            match &read {
                Ok(s) => {
                    cell.applied += s.applied.len() as u32;
                    cell.pending += s.pending.len() as u32;
                }
                Err(()) => {
                    cell.pending += migrator
                        .migrations(Scope::Tenant, tenant.placement.engine)
                        .len() as u32
                }
            }
            cell.state = ModuleState::of(Some(state), cell.pending as usize, read.is_ok());
        }
        if let Some(db) = db {
            db.close().await;
        }
    }
}
