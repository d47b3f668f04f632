//! The headless CLI: parses the command line, calls the same [`Project`] API the console uses,
//! and prints for people (aligned, coloured on a terminal) or for scripts (`--json`, nothing
//! else on stdout). Progress goes to stderr. Exit status: 0 done, 1 some steps failed, 2
//! refused before anything ran.
//!
//! This file is the contract: [`run`] dispatches each command to its family's file (a new
//! command is one file here and one line in the match), the exit statuses, and the ways of
//! printing (`out!`/`err!`, JSON, colours kept only on a terminal). The families: `check`,
//! `catalog` (modules), `tenants`, `execute` (install, rollback, migrate), `status` (status,
//! history), `jobs`, `verify` (verify, resolve), `demo`, `authoring` (new, graph, tables).

mod args;
mod event_line;
mod progress;
mod render;
mod render_plan;
mod table;

use std::io::IsTerminal;

pub use args::Cli;
use args::Command;

use estate_engine::Config;
use estate_engine::Slug;
use estate_engine::{Error, Result};
use estate_engine::{Project, RegisteredMigrators, TagCondition, TenantSelection};

/// Writes to stdout, ignoring a closed pipe (`estate status | head`): the output is for a
/// reader who left, and a job must never die of it.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes to stderr, ignoring a closed pipe, like [`out!`].
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

// After the macros, which they use: one file per command family.
mod authoring;
mod catalog;
mod check;
mod demo;
mod execute;
mod jobs;
mod rollout;
mod selftest;
mod status;
mod tenant_args;
mod tenant_files;
mod tenant_remove;
mod tenants;
mod verify;

/// Process exit statuses of the CLI contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_REFUSED: u8 = 2;

/// What is left to do once a command has run: exit with a status, or open the console on the
/// project (after `estate demo`, or `estate` alone), which `main` does: the CLI knows no console.
pub enum Next {
    Exit(u8),
    Console(Box<Project>, u8),
}

/// Whether `cli` may open the console: `estate` alone, or `estate demo`.
pub fn may_open_console(cli: &Cli) -> bool {
    matches!(cli.command, None | Some(Command::Demo))
}

/// The config the command line names (`--config`, `ESTATE_CONFIG` or the default), with
/// `--read-only` applied.
pub fn config(cli: &Cli) -> Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if cli.read_only {
        config.read_only = true;
    }
    Ok(config)
}

/// Runs a parsed command line on `config` with the binary's Rust migrators.
pub async fn run(cli: Cli, config: Config, registered: &RegisteredMigrators) -> Result<Next> {
    tracing::info!(command = ?cli.command, config = %config.file.display(), "estate started");
    let Some(command) = cli.command else {
        console_terminal()?;
        return Ok(Next::Console(
            Box::new(open(config, registered).await?),
            EXIT_OK,
        ));
    };
    let status = match command {
        Command::Init(args) => return tenants::init(config, registered, args).await,
        Command::Check(flag) => check::check(&config, registered, flag.json),
        Command::Demo => return demo::run(config, registered).await,
        Command::Modules(flag) => catalog::modules(config, registered, flag.json).await,
        Command::Tenants(command) => tenants::run(config, registered, command).await,
        Command::Install(args) => execute::install(config, registered, args).await,
        Command::Rollback(args) => execute::rollback(config, registered, args).await,
        Command::Adopt(args) => execute::adopt(config, registered, args).await,
        Command::Migrate(args) => execute::migrate(config, registered, args).await,
        Command::Status(args) => status::status(config, registered, args).await,
        Command::History(args) => status::history(config, registered, args).await,
        Command::Jobs(args) => jobs::run(config, registered, args).await,
        Command::Verify(args) => verify::verify(config, registered, args).await,
        Command::Resolve(args) => verify::resolve(config, registered, args).await,
        Command::New(command) => authoring::new(&config, command),
        Command::Graph(args) => authoring::graph(&config, args.format),
        Command::Tables(flag) => authoring::tables(&config, flag.json),
        Command::Test(args) => selftest::run(config, registered, args).await,
    }?;
    Ok(Next::Exit(status))
}

fn read_only(what: &str) -> Error {
    Error::refused(
        format!("read-only mode: {what} would change the databases"),
        "run without --read-only (and without read_only = true in the config or ESTATE_READ_ONLY)",
    )
}

/// Opens the project, refusing a landlord that holds no registry (nothing is created, not even
/// the log, which starts once the project is open).
async fn open(config: Config, registered: &RegisteredMigrators) -> Result<Project> {
    opened(Project::open_with(config, registered.clone()).await?)
}

/// Opens the project, creating the registry in a new project (see `Project::create_with`):
/// the first `tenants add`, and `demo`.
async fn create(config: Config, registered: &RegisteredMigrators) -> Result<Project> {
    opened(Project::create_with(config, registered.clone()).await?)
}

fn opened(project: Project) -> Result<Project> {
    crate::logging::start();
    if !project.catalog().problems.is_empty() {
        errln!(
            "warning: {} problem(s) in the contexts; `estate check` lists them. Installs and rollbacks are refused until they are fixed.",
            project.catalog().problems.len()
        );
    }
    Ok(project)
}

/// The tenants `--tenant` names, else those `--where` selects, else every tenant.
fn selection_of(tenants: &[String], conditions: &[String]) -> Result<TenantSelection> {
    if !tenants.is_empty() {
        return Ok(TenantSelection::Only(slugs(tenants)?));
    }
    if conditions.is_empty() {
        return Ok(TenantSelection::All);
    }
    Ok(TenantSelection::Where(tag_conditions(conditions)?))
}

/// `--where` conditions, each checked.
fn tag_conditions(conditions: &[String]) -> Result<Vec<TagCondition>> {
    conditions.iter().map(|c| TagCondition::parse(c)).collect()
}

/// Every slug validated, or the first bad one refused.
fn slugs(tenants: &[String]) -> Result<Vec<Slug>> {
    tenants.iter().map(|t| Slug::parse(t)).collect()
}

/// The console needs a terminal; a script gets a clear refusal instead of a garbled screen.
fn console_terminal() -> Result<()> {
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(Error::refused(
            "the console needs a terminal, and this is not one",
            "run `estate` in a terminal, or a command such as `estate status` (see `estate --help`)",
        ));
    }
    Ok(())
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => outln!("{s}"),
        Err(e) => errln!("error: could not encode JSON: {e}"),
    }
}

/// Styles kept on a terminal, stripped otherwise (and with NO_COLOR).
fn colour(text: String) -> String {
    strip_unless(std::io::stdout().is_terminal(), text)
}

fn colour_err(text: String) -> String {
    strip_unless(std::io::stderr().is_terminal(), text)
}

fn strip_unless(terminal: bool, text: String) -> String {
    if terminal && std::env::var_os("NO_COLOR").is_none() {
        text
    } else {
        anstream::adapter::strip_str(&text).to_string()
    }
}
