//! What the console shows: one snapshot of the catalog and the registry, loaded in a handful
//! of queries (the matrix in one, never one per tenant), off the UI thread. History is not in
//! it: each view asks the registry for the page it shows (`tui::history`).

use std::collections::HashMap;
use std::sync::OnceLock;

use estate_engine::Result;
use estate_engine::{Catalog, TableMap, TreeLine, tree_prefixes};
use estate_engine::{JobFilter, JobRecord, TenantRecord};
use estate_engine::{Matrix, MatrixCell, ModuleState, ModuleSummary, Project};

/// How many jobs the console lists, newest first (at load, and at each second's poll).
pub const JOB_ROWS: i64 = 200;

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where the project is, for the title bar.
    pub project: String,
    /// Who runs this console, as jobs record it.
    pub operator: String,
    pub modules: Vec<ModuleSummary>,
    pub matrix: Matrix,
    /// Per tenant (as in `matrix.tenants`): how many modules are installed, outdated, failed.
    pub counts: Vec<[u32; 3]>,
    /// Made at its first use, not before the first frame: at 100,000 tenants it is a copy of
    /// every slug.
    tenant_index: OnceLock<HashMap<String, usize>>,
    module_index: HashMap<String, usize>,
    pub jobs: Vec<JobRecord>,
    /// Problems in the contexts, shown in the status bar.
    pub problems: usize,
    /// The dependency graph and the responsibility matrix, for the Modules view's map.
    pub map: CatalogMap,
}

/// The catalog as the Modules view's map draws it.
#[derive(Debug, Clone, Default)]
pub struct CatalogMap {
    /// The dependency tree, each line with its box-drawing prefix.
    pub tree: Vec<(String, TreeLine)>,
    pub cycles: Vec<Vec<String>>,
    pub tables: TableMap,
}

impl CatalogMap {
    pub fn of(catalog: &Catalog) -> CatalogMap {
        let tree = catalog.graph.tree();
        CatalogMap {
            tree: tree_prefixes(&tree).into_iter().zip(tree).collect(),
            cycles: catalog.graph.cycles(),
            tables: catalog.tables.clone(),
        }
    }
}

impl Snapshot {
    pub async fn load(project: &Project) -> Result<Snapshot> {
        // The jobs on the landlord's own connection while the matrix is read beside it.
        let recent = JobFilter {
            limit: JOB_ROWS,
            ..JobFilter::default()
        };
        let (matrix, jobs) = tokio::try_join!(project.matrix(), project.jobs(&recent))?;
        let modules = project.modules_in(&matrix);
        let mut snapshot = Snapshot::new(
            project.config().root.display().to_string(),
            modules,
            matrix,
            jobs,
            project.catalog().problems.len(),
        );
        snapshot.operator = project.operator().user.clone();
        snapshot.map = CatalogMap::of(project.catalog());
        Ok(snapshot)
    }

    pub fn new(
        project: String,
        modules: Vec<ModuleSummary>,
        matrix: Matrix,
        jobs: Vec<JobRecord>,
        problems: usize,
    ) -> Snapshot {
        let mut s = Snapshot {
            project,
            operator: String::new(),
            modules,
            tenant_index: OnceLock::new(),
            module_index: matrix
                .modules
                .iter()
                .enumerate()
                .map(|(i, m)| (m.clone(), i))
                .collect(),
            matrix,
            counts: Vec::new(),
            jobs,
            problems,
            map: CatalogMap::default(),
        };
        s.count();
        s
    }

    fn count(&mut self) {
        self.counts = (0..self.matrix.tenants.len())
            .map(|t| self.count_row(t))
            .collect();
    }

    fn count_row(&self, t: usize) -> [u32; 3] {
        let mut c = [0u32; 3];
        for cell in self.matrix.row(t) {
            match cell.state {
                ModuleState::Installed => c[0] += 1,
                ModuleState::Outdated => c[1] += 1,
                ModuleState::Failed | ModuleState::Unreachable => c[2] += 1,
                ModuleState::NotInstalled => {}
            }
        }
        c
    }

    pub fn tenants(&self) -> &[TenantRecord] {
        &self.matrix.tenants
    }

    pub fn tenant_index(&self, slug: &str) -> Option<usize> {
        self.tenant_index
            .get_or_init(|| {
                self.matrix
                    .tenants
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.slug.clone(), i))
                    .collect()
            })
            .get(slug)
            .copied()
    }

    pub fn module_index(&self, name: &str) -> Option<usize> {
        self.module_index.get(name).copied()
    }

    pub fn cell(&self, tenant: &str, module: &str) -> Option<MatrixCell> {
        Some(
            self.matrix
                .cell(self.tenant_index(tenant)?, self.module_index(module)?),
        )
    }

    /// A job's event changed a cell: show it now, before the next reload.
    pub fn set_state(&mut self, tenant: &str, module: &str, state: ModuleState) {
        if let (Some(t), Some(m)) = (self.tenant_index(tenant), self.module_index(module)) {
            let mut cell = self.matrix.cell(t, m);
            cell.state = state;
            if state == ModuleState::Installed {
                cell.applied += cell.pending;
                cell.pending = 0;
            }
            if state == ModuleState::NotInstalled {
                cell.applied = 0;
                cell.pending = 0;
            }
            self.matrix.set(t, m, cell);
            self.counts[t] = self.count_row(t);
        }
    }
}
