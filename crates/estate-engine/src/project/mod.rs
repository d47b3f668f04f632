//! A project: the config, the catalog, the migrators and the registry, opened together.
//!
//! This is the API both faces of estate use, the headless CLI and the console: every action
//! the console offers is a method here, so anything the console can do, a script can do too.
//! Neither face touches SQL.

mod graph_check;
mod import;
mod jobs;
mod matrix;
mod modules;
mod removal;
mod resolve;
mod selftest;
mod status;
mod tenants;
mod verify;

pub use import::{ImportReport, RefusedRow, TenantRow};
pub use matrix::{Matrix, MatrixCell, ModuleState, StatusRow};
pub use modules::{ModuleSummary, PerScope};
pub use removal::Removal;
pub use resolve::{Resolution, Resolved};
pub use selftest::{Mismatch, SelfTestRun};
pub use verify::{Finding, FindingKind, VerifyReport};

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

use crate::catalog::{Catalog, Scope, describe_roots};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::jobs::{JobControl, JobEvent, JobReport, JobRunner};
use crate::migrator::{
    CommandMigrator, ElsewhereMigrator, ModuleMigrator, RegisteredMigrators, SqlMigrator, not_here,
};
use crate::operator::Operator;
use crate::plan::{Plan, Planner, TenantSelection};
use crate::registry::{
    Creation, Evidence, HistoryEntry, HistoryFilter, HistoryPage, Installation, Registry,
    TenantRecord,
};
use crate::tenancy::Slug;

pub struct Project {
    config: Config,
    catalog: Catalog,
    registry: Registry,
    operator: Operator,
    migrators: BTreeMap<String, Arc<dyn ModuleMigrator>>,
    /// The binary's Rust migrators, kept so that [`Project::reopen`] builds them again.
    registered: RegisteredMigrators,
    /// Where the domain events of this project's jobs go to [`Project::subscribe`]rs.
    subscribers: tokio::sync::broadcast::Sender<crate::jobs::DomainEvent>,
}

/// How many domain events a subscriber may fall behind by before it loses the oldest.
pub const SUBSCRIBER_BACKLOG: usize = 4096;

impl Project {
    /// Opens the project with estate's own migrators only (SQL files, blueprints, sqlx and
    /// diesel sets): [`Project::open_with`] with nothing registered.
    pub async fn open(config: Config) -> Result<Project> {
        Self::open_with(config, RegisteredMigrators::default()).await
    }

    /// Opens the project: reads the catalog, builds each context's migrator (a registered Rust
    /// one where the binary has it, estate's SQL runner otherwise), opens the landlord and
    /// brings the registry's schema up to date (unless read-only), records the catalog there
    /// and repairs what a killed job left behind. A landlord that holds no registry is refused
    /// ([`Error::NoRegistry`]) and nothing is created: see [`Project::create_with`].
    pub async fn open_with(config: Config, registered: RegisteredMigrators) -> Result<Project> {
        Ok(Self::opening(config, registered, Creation::Never).await?.0)
    }

    /// [`Project::create_with`] with nothing registered.
    pub async fn create(config: Config) -> Result<Project> {
        Self::create_with(config, RegisteredMigrators::default()).await
    }

    /// Opens the project as [`Project::open_with`] does, creating the registry when the
    /// landlord holds none and nothing shows an earlier one (tenant databases where the
    /// tenancy templates put them, a log that recorded jobs): what the first `tenants add`
    /// and `estate demo` do. Over such evidence it is refused like `open_with`.
    pub async fn create_with(config: Config, registered: RegisteredMigrators) -> Result<Project> {
        Ok(Self::opening(config, registered, Creation::IfNew).await?.0)
    }

    /// `estate init`: creates the registry in a landlord that holds none, and returns what
    /// showed an earlier one (empty unless `force`: without it, such evidence is refused). A
    /// landlord that already holds a registry is refused, and left as it is.
    pub async fn init_with(
        config: Config,
        registered: RegisteredMigrators,
        force: bool,
    ) -> Result<(Project, Evidence)> {
        config.require_contexts_folder()?;
        if config.read_only {
            return Err(read_only("estate init"));
        }
        if Registry::exists(&config).await? {
            return Err(Error::refused(
                format!(
                    "the landlord ({}) already holds a registry: there is nothing to initialise",
                    config.landlord.describe()
                ),
                "`estate status` shows what it records; init never replaces a registry (to start over, move the landlord database aside first)",
            ));
        }
        let creation = if force {
            Creation::Force
        } else {
            Creation::IfNew
        };
        let (project, evidence) = Self::opening(config, registered, creation).await?;
        Ok((project, evidence.unwrap_or_default()))
    }

    /// The project opened as `creation` allows, with what an earlier registry left when this
    /// opening created a new one.
    async fn opening(
        config: Config,
        registered: RegisteredMigrators,
        creation: Creation,
    ) -> Result<(Project, Option<Evidence>)> {
        config.require_contexts_folder()?;
        let catalog = Catalog::load(&config.contexts)?;
        // Before the landlord is opened: a refusal must change nothing.
        let migrators = migrators(&catalog, &registered, &config.pass_env)?;
        let operator = Operator::current();
        let (registry, created_over) =
            Registry::open(&config, creation, &operator.to_string()).await?;
        if !config.read_only && catalog.problems.is_empty() {
            // A broken catalog is not recorded: the refusal it causes must change nothing.
            registry.sync_catalog(&catalog).await?;
        }
        let project = Project {
            config,
            catalog,
            registry,
            operator,
            migrators,
            registered,
            subscribers: tokio::sync::broadcast::channel(SUBSCRIBER_BACKLOG).0,
        };
        project.reap_dead_jobs().await?;
        Ok((project, created_over))
    }

    /// The same project opened again: the contexts re-read from disk (a migration added since
    /// shows as pending), the same config and the same registered migrators. It never creates
    /// a registry: a landlord deleted meanwhile is refused.
    pub async fn reopen(&self) -> Result<Project> {
        Self::open_with(self.config.clone(), self.registered.clone()).await
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The domain events of the jobs this project runs from now on (a module installed,
    /// upgraded or rolled back for a tenant, a tenant failed, a job finished), each once the
    /// registry has recorded it: what `[[hooks]]` commands receive, for code embedding estate.
    /// A subscriber more than [`SUBSCRIBER_BACKLOG`] events behind loses the oldest.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::jobs::DomainEvent> {
        self.subscribers.subscribe()
    }

    /// The contexts on disk as this project read them.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Who is running estate, as the ledger and the history record it.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    pub fn migrator(&self, context: &str) -> Option<&Arc<dyn ModuleMigrator>> {
        self.migrators.get(context)
    }

    /// Refuses any change in read-only mode.
    pub fn ensure_writable(&self, what: &str) -> Result<()> {
        if self.config.read_only {
            return Err(read_only(what));
        }
        Ok(())
    }

    fn planner(&self) -> Planner<'_> {
        Planner::new(&self.config, &self.catalog, &self.migrators, &self.registry)
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRecord>> {
        self.registry.tenants().await
    }

    pub async fn tenant(&self, slug: &str) -> Result<Option<TenantRecord>> {
        self.registry.tenant(slug).await
    }

    /// Every (tenant, module) the registry records, installed or failed.
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        self.registry.installations().await
    }

    pub async fn plan_install(
        &self,
        modules: &[String],
        tenants: &TenantSelection,
    ) -> Result<Plan> {
        let plan = self.planner().install(modules, tenants).await?;
        self.ensure_runnable(&plan)?;
        Ok(plan)
    }

    /// Plans recording, without running them, the migrations of `modules` that databases made
    /// by another tool already hold (`estate adopt`), up to `to`.
    pub async fn plan_adopt(
        &self,
        modules: &[String],
        tenants: &TenantSelection,
        to: Option<i64>,
    ) -> Result<Plan> {
        let plan = self.planner().adopt(modules, tenants, to).await?;
        self.ensure_runnable(&plan)?;
        Ok(plan)
    }

    pub async fn plan_rollback(
        &self,
        modules: &[String],
        tenants: &TenantSelection,
        cascade: bool,
    ) -> Result<Plan> {
        let plan = self.planner().rollback(modules, tenants, cascade).await?;
        self.ensure_runnable(&plan)?;
        Ok(plan)
    }

    /// Plans installing `modules` (and what they require) on the landlord scope alone.
    pub async fn plan_install_landlord(&self, modules: &[String]) -> Result<Plan> {
        let plan = self.planner().install_landlord(modules).await?;
        self.ensure_runnable(&plan)?;
        Ok(plan)
    }

    /// Plans moving one module's `scope` up or down to version `to` (`--to`).
    pub async fn plan_to_version(
        &self,
        module: &str,
        tenants: &TenantSelection,
        scope: Scope,
        to: i64,
        direction: crate::plan::Direction,
    ) -> Result<Plan> {
        let plan = self
            .planner()
            .to_version(module, tenants, scope, to, direction)
            .await?;
        self.ensure_runnable(&plan)?;
        Ok(plan)
    }

    pub async fn plan_migrate(
        &self,
        modules: &[String],
        tenants: &TenantSelection,
        scopes: &[Scope],
    ) -> Result<Plan> {
        let mut plan = self.planner().migrate(modules, tenants, scopes).await?;
        self.ensure_runnable(&plan)?;
        if modules.is_empty() {
            // Nothing to refuse (nothing was asked by name), but nothing to hide either.
            let counts = self.registry.installation_counts().await?;
            for (name, migrator) in &self.migrators {
                if migrator.elsewhere().is_some() && counts.get(name).is_some_and(|n| *n > 0) {
                    plan.notes.push(format!(
                        "{name} is left out: its migrator is not in this binary (see `estate check`)"
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// Refuses a plan that names, or has a step for, a module whose migrator this binary
    /// does not have.
    fn ensure_runnable(&self, plan: &Plan) -> Result<()> {
        let touched = plan
            .modules
            .iter()
            .chain(plan.steps().into_iter().map(|s| &s.module));
        for module in touched {
            if let Some(m) = self.migrators.get(module)
                && let Some(binary) = m.elsewhere()
            {
                return Err(not_here(module, binary));
            }
        }
        Ok(())
    }

    /// Runs a plan as a job; events reach `observer` as they happen.
    pub async fn run(
        &self,
        plan: &Plan,
        observer: Option<UnboundedSender<JobEvent>>,
        control: JobControl,
    ) -> Result<JobReport> {
        self.ensure_writable(&format!("{} {}", plan.action, plan.modules.join(" ")))?;
        self.registry.ensure_present()?;
        let runner = JobRunner {
            config: &self.config,
            catalog: &self.catalog,
            migrators: &self.migrators,
            registry: &self.registry,
            operator: &self.operator,
            subscribers: Some(self.subscribers.clone()),
        };
        runner.run(plan, observer, control).await
    }

    /// History as `filter` says, oldest first (the newest `limit` rows when it has one). A
    /// module or tenant it names must exist: a typo is refused, not answered with nothing.
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        self.check_history_filter(filter).await?;
        self.registry.history(filter).await
    }

    /// A page of history, newest first, with how many rows `filter` matches in all.
    pub async fn history_page(&self, filter: &HistoryFilter) -> Result<HistoryPage> {
        self.check_history_filter(filter).await?;
        self.registry.history_page(filter).await
    }

    async fn check_history_filter(&self, filter: &HistoryFilter) -> Result<()> {
        if let Some(m) = &filter.module {
            self.catalog.require(m)?;
        }
        if let Some(t) = &filter.tenant {
            let slug = Slug::parse(t)?;
            let known = self
                .planner()
                .resolve_tenants(&TenantSelection::Only(vec![slug]))
                .await;
            // A removed tenant is unknown to the registry, and its history is still asked for.
            if let Err(e) = known {
                let rows = HistoryFilter {
                    tenant: Some(t.clone()),
                    limit: Some(1),
                    ..HistoryFilter::default()
                };
                if self.registry.history(&rows).await?.is_empty() {
                    return Err(e);
                }
            }
        }
        if let Some(job) = &filter.job {
            self.registry.job(job).await?;
        }
        Ok(())
    }

    /// Closes every database handle so files are released.
    pub async fn close(&self) {
        self.registry.close().await;
    }
}

/// The refusal of a change in read-only mode.
fn read_only(what: &str) -> Error {
    Error::refused(
        format!("read-only mode: {what} would change the databases"),
        "run without --read-only (and without read_only = true in the config or ESTATE_READ_ONLY)",
    )
}

/// Each context's migrator: the binary's registered Rust migrator where it has one, a stand-in
/// naming the binary that has it where the manifest says so, estate's SQL runner otherwise.
fn migrators(
    catalog: &Catalog,
    registered: &RegisteredMigrators,
    pass_env: &[String],
) -> Result<BTreeMap<String, Arc<dyn ModuleMigrator>>> {
    if let Some(unknown) = registered.contexts().find(|c| catalog.get(c).is_none()) {
        return Err(Error::refused(
            format!(
                "this binary registers a Rust migrator for the context {unknown:?}, which is not in {}",
                describe_roots(&catalog.roots)
            ),
            format!(
                "add the folder {unknown}/ with its context.toml (name, title, version, requires) to the contexts folder"
            ),
        ));
    }
    let mut migrators = BTreeMap::new();
    for context in catalog.contexts.values() {
        let name = context.name();
        let migrator: Arc<dyn ModuleMigrator> =
            match (registered.build(name), &context.manifest.migrator_binary) {
                (Some(m), _) => {
                    if m.context() != name {
                        return Err(Error::refused(
                            format!(
                                "the Rust migrator registered for {name:?} says it belongs to {:?}",
                                m.context()
                            ),
                            "register each migrator under the context its context() returns",
                        ));
                    }
                    crate::migrator::check_versions(&*m)?;
                    m
                }
                (None, Some(binary)) => Arc::new(ElsewhereMigrator::new(name, binary)),
                (None, None) => match &context.manifest.migrator_command {
                    Some(command) => Arc::new(CommandMigrator::new(context, command, pass_env)),
                    None => Arc::new(SqlMigrator::for_context(context)),
                },
            };
        migrators.insert(name.to_string(), migrator);
    }
    Ok(migrators)
}
