//! The command line, as clap reads it: DESIGN.md's CLI contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use super::tenant_args::{TenantsCommand, TenantsFormat};
use estate_engine::{Error, Result, TenantSelection};

#[derive(Debug, Parser)]
#[command(
    name = "estate",
    version,
    about = "Install, upgrade and roll back the migrations of a multi-tenant, modular application",
    long_about = None,
    after_help = "Exit status: 0 everything done; 1 some steps failed (the rest done); 2 refused before anything ran."
)]
pub struct Cli {
    /// The config file [default: config/estate.toml, or ESTATE_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Show everything, change nothing: every action is refused
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Without a command, the console opens
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the registry in the landlord database of a new project
    Init(InitArgs),
    /// Create demo tenants on the embedded default with a mix of modules, and show the matrix
    Demo,
    /// Validate the config and every context; list each problem
    Check(JsonFlag),
    /// The module catalog, with requires / required-by
    Modules(JsonFlag),
    /// Tenants: list, add (with tags and default modules), tag, import, export, remove
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Install modules (and what they require) for tenants
    Install(InstallArgs),
    /// Roll modules back for tenants (dependants first with --cascade)
    Rollback(RollbackArgs),
    /// Take over databases another tool migrated: where the schema holds what the module's
    /// migrations create, record them as applied (by `adopted`) without running them
    Adopt(AdoptArgs),
    /// Bring installed modules up to date (apply new migrations, retry failed ones)
    Migrate(MigrateArgs),
    /// The installation matrix: tenants × modules
    Status(StatusArgs),
    /// What ran, when, by whom, how long, and how it ended
    History(HistoryArgs),
    /// Jobs from any process: list them, read or follow a job's log, cancel a running one
    Jobs(JobsArgs),
    /// Compare the registry, every ledger and the migration files; list each finding and its fix
    Verify(VerifyArgs),
    /// Say how a migration that ran outside a transaction and stopped partway ended, once you
    /// have finished or undone it by hand (`verify` lists them)
    Resolve(ResolveArgs),
    /// Scaffold a context or a migration (files only; no database is touched)
    #[command(subcommand)]
    New(NewCommand),
    /// The dependency graph of contexts: requires and required-by, cycles flagged
    Graph(GraphArgs),
    /// Which context creates which tables in which scope; tables claimed twice are flagged
    Tables(JsonFlag),
    /// Run a context's migrations up, down and up again on scratch databases and name the
    /// first whose down does not undo its up (no database of the fleet is touched)
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The context to test
    pub context: String,
    #[arg(long, value_enum, default_value = "all")]
    pub scope: ScopeArg,
    /// sqlite or postgres [default: SQLite, and PostgreSQL when the config names a server]
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Sqlite,
    Postgres,
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A context folder: context.toml and empty migrations/landlord and migrations/tenant
    Context {
        /// Its name: lowercase letters, digits and _
        name: String,
        /// Contexts it requires (repeat, or separate with commas)
        #[arg(long, value_name = "CONTEXT", value_delimiter = ',')]
        requires: Vec<String>,
        /// Print JSON for scripts
        #[arg(long)]
        json: bool,
    },
    /// The next migration of a context's scope: up and down files (or a folder, in a diesel
    /// set), or a blueprint
    Migration {
        /// The context it belongs to
        context: String,
        /// Which database it runs in
        #[arg(value_enum)]
        scope: ScopeName,
        /// What it does, e.g. create_invoices (becomes the file name)
        name: String,
        /// Write a blueprint (.toml: tables declared, SQL rendered per engine) instead of SQL
        #[arg(long)]
        blueprint: bool,
        /// Print JSON for scripts
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Create a new, empty registry even where an earlier one shows (tenant databases, a log
    /// of jobs); it never replaces a registry that is there
    #[arg(long)]
    pub force: bool,
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeName {
    Landlord,
    Tenant,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum GraphFormat {
    /// For people: each context, what it requires and what requires it
    #[default]
    Text,
    /// Graphviz: `estate graph --format dot | dot -Tsvg > graph.svg`
    Dot,
    /// For scripts
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("outcome").required(true).args(["completed", "undone"])))]
pub struct ResolveArgs {
    /// The context whose migration is unfinished
    pub context: String,
    /// The tenant whose database it is
    #[arg(long, value_name = "SLUG", required_unless_present = "landlord")]
    pub tenant: Option<String>,
    /// It is the landlord's
    #[arg(long, conflicts_with = "tenant")]
    pub landlord: bool,
    /// Its work is all there (the rest finished by hand): record it as done
    #[arg(long)]
    pub completed: bool,
    /// None of its work is there any more (undone by hand): record it as never done
    #[arg(long)]
    pub undone: bool,
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A tenant to verify (repeat, or separate with commas); every tenant without it
    #[arg(
        long = "tenant",
        value_name = "SLUG",
        value_delimiter = ',',
        conflicts_with = "all"
    )]
    pub tenants: Vec<String>,
    /// Verify every tenant (the default)
    #[arg(long)]
    pub all: bool,
    /// Only the tenants tagged so: KEY=VALUE or KEY!=VALUE (repeat: all must hold)
    #[arg(long = "where", value_name = "KEY=VALUE", conflicts_with = "tenants")]
    pub conditions: Vec<String>,
    /// Rewrite the registry rows that disagree with the ledgers (nothing else is repaired)
    #[arg(long)]
    pub repair: bool,
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

/// Which tenants: one of these is needed (checked by `Targets::selection`, as `install
/// --scope landlord` needs none).
#[derive(Debug, Args)]
pub struct Targets {
    /// A tenant to act on (repeat, or separate with commas)
    #[arg(
        long = "tenant",
        value_name = "SLUG",
        value_delimiter = ',',
        conflicts_with_all = ["all", "conditions"]
    )]
    pub tenants: Vec<String>,
    /// Act on every tenant
    #[arg(long)]
    pub all: bool,
    /// Act on the tenants tagged so: KEY=VALUE or KEY!=VALUE (repeat: all must hold)
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub conditions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunFlags {
    /// Show the plan and the SQL each step would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
    /// Once N tenants have failed, start no more (they are reported not started; run again
    /// to go on). By default every tenant is tried and each failure reported
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: Option<u32>,
    /// Start no more tenants after the first one fails (--max-failures 1)
    #[arg(long, conflicts_with = "max_failures")]
    pub fail_fast: bool,
    /// Roll out in waves: N tenants, N% of them, or rest (repeat, in order; the last size
    /// repeats). A wave starts only if the one before had fewer failures than --max-failures
    /// (default 1)
    #[arg(long = "wave", value_name = "N|N%|rest")]
    pub waves: Vec<String>,
    /// Wait this long between waves (Ctrl-C stops before the next)
    #[arg(long, value_name = "SECONDS", requires = "waves")]
    pub wave_pause: Option<u64>,
    /// The order tenants are taken in: slug, or random (seeded, printed; --seed repeats it)
    #[arg(long, value_enum, default_value = "slug")]
    pub order: OrderArg,
    /// The seed of --order random
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    Slug,
    Random,
}

impl Targets {
    /// The tenants asked for; one of --tenant, --all or --where is needed.
    pub fn selection(&self) -> Result<TenantSelection> {
        if self.tenants.is_empty() && !self.all && self.conditions.is_empty() {
            return Err(Error::refused(
                "no tenants named",
                "name them: --tenant SLUG, --all, or --where KEY=VALUE",
            ));
        }
        super::selection_of(&self.tenants, &self.conditions)
    }
}

impl RunFlags {
    /// A job run for another command's sake (a new tenant's default modules): no dry run,
    /// every tenant tried.
    pub fn quiet(json: bool) -> RunFlags {
        RunFlags {
            dry_run: false,
            json,
            max_failures: None,
            fail_fast: false,
            waves: Vec::new(),
            wave_pause: None,
            order: OrderArg::Slug,
            seed: None,
        }
    }

    /// The failure policy the flags ask for; `None`: try every tenant.
    pub fn max_failures(&self) -> Option<usize> {
        if self.fail_fast {
            Some(1)
        } else {
            self.max_failures.map(|n| n as usize)
        }
    }
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[arg(required = true, value_name = "MODULE")]
    pub modules: Vec<String>,
    #[command(flatten)]
    pub targets: Targets,
    /// `landlord`: install the landlord scope only, before any tenant (no tenant needed)
    #[arg(long, value_enum, value_name = "SCOPE")]
    pub scope: Option<ScopeArg>,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[arg(required = true, value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Adopt up to this version (one module): the database is at it [default: the version
    /// another tool's ledger there names, else the module's latest]
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[arg(required = true, value_name = "MODULE")]
    pub modules: Vec<String>,
    #[command(flatten)]
    pub targets: Targets,
    /// Also roll back the installed modules that require these (they go first)
    #[arg(long, conflicts_with = "to")]
    pub cascade: bool,
    /// Roll one module's scope (--scope) back to this version, keeping it installed there
    #[arg(long, value_name = "VERSION", requires = "scope")]
    pub to: Option<i64>,
    /// The scope --to moves: landlord or tenant
    #[arg(long, value_enum, value_name = "SCOPE", requires = "to")]
    pub scope: Option<ScopeArg>,
    /// Do not ask for confirmation on a terminal
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Landlord,
    Tenant,
    All,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Modules to bring up to date [default: every installed module]
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,
    /// A tenant to act on (repeat, or separate with commas) [default: every tenant]
    #[arg(
        long = "tenant",
        value_name = "SLUG",
        value_delimiter = ',',
        conflicts_with = "all"
    )]
    pub tenants: Vec<String>,
    /// Act on every tenant (the default)
    #[arg(long)]
    pub all: bool,
    /// Only the tenants tagged so: KEY=VALUE or KEY!=VALUE (repeat: all must hold)
    #[arg(long = "where", value_name = "KEY=VALUE", conflicts_with = "tenants")]
    pub conditions: Vec<String>,
    #[arg(long, value_enum, default_value = "all")]
    pub scope: ScopeArg,
    /// Apply one module's migrations of --scope up to this version only
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this tenant
    #[arg(long, value_name = "SLUG")]
    pub tenant: Option<String>,
    /// Only the tenants tagged so: KEY=VALUE or KEY!=VALUE (repeat: all must hold)
    #[arg(long = "where", value_name = "KEY=VALUE", conflicts_with = "tenant")]
    pub conditions: Vec<String>,
    /// Read every selected tenant's ledger (opens each database) instead of the registry
    #[arg(long)]
    pub live: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this module
    pub module: Option<String>,
    /// Only this tenant
    #[arg(long, value_name = "SLUG")]
    pub tenant: Option<String>,
    /// Only the steps of tenants tagged so: KEY=VALUE or KEY!=VALUE (repeat: all must hold)
    #[arg(long = "where", value_name = "KEY=VALUE", conflicts_with = "tenant")]
    pub conditions: Vec<String>,
    /// Only this job's steps
    #[arg(long, value_name = "ID")]
    pub job: Option<String>,
    /// Only steps started since: a span back from now (30m, 12h, 7d) or a date (2026-12-01)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only steps that failed
    #[arg(long)]
    pub failed: bool,
    /// Show at most the newest N entries
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: Option<JobsCommand>,
    #[command(flatten)]
    pub list: JobsList,
}

/// `estate jobs`: the newest jobs first.
#[derive(Debug, Args)]
pub struct JobsList {
    /// Only the jobs running now
    #[arg(long)]
    pub running: bool,
    /// Only jobs started since: a span back from now (30m, 12h, 7d) or a date (2026-12-01)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Show at most the newest N jobs
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: i64,
    /// One JSON array of the jobs, with their counts and who asked them to stop
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// A job's log, whichever process ran it; --follow reads on until the job ends
    Log(JobLogArgs),
    /// Ask a running job (of any process) to stop at its next migration boundary
    Cancel(JobIdArg),
}

#[derive(Debug, Args)]
pub struct JobLogArgs {
    /// The job's id (`estate jobs` lists them)
    pub id: String,
    /// Only this tenant's lines
    #[arg(long, value_name = "SLUG")]
    pub tenant: Option<String>,
    /// Keep reading new lines until the job ends; exit 0 if it succeeded, 1 if not
    #[arg(long, short)]
    pub follow: bool,
    /// One JSON object per line (seq, at, tenant, kind, text)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JobIdArg {
    /// The job's id (`estate jobs --running` lists them)
    pub id: String,
}
