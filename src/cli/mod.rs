//! The headless CLI: parses the command line, calls the same [`Project`] API the console uses,
//! and prints for people (aligned, coloured on a terminal) or for scripts (`--json`, nothing
//! else on stdout). Progress goes to stderr. Exit status: 0 done, 1 some steps failed, 2
//! refused before anything ran.

mod args;
mod progress;
mod render;
mod table;

use std::io::{BufRead, IsTerminal, Write};

pub use args::Cli;
use args::{
    Command, HistoryArgs, MigrateArgs, ResolveArgs, RollbackArgs, RunFlags, ScopeArg, StatusArgs,
    Targets, TenantsCommand, VerifyArgs,
};
use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;

use estate_engine::Config;
use estate_engine::JobControl;
use estate_engine::Slug;
use estate_engine::{Catalog, Problem, Scope};
use estate_engine::{Error, Result};
use estate_engine::{Plan, TenantSelection};
use estate_engine::{Project, RegisteredMigrators, Resolution};

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

// After the macros, which it uses.
mod authoring;

/// Process exit statuses of the CLI contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_REFUSED: u8 = 2;

/// The demo's tenants and what each gets installed.
const DEMO: &[(&str, &str, &[&str])] = &[
    ("acme", "Acme Corporation", &["digital_card", "calendar"]),
    ("globex", "Globex", &["billing"]),
    ("initech", "Initech", &["calendar"]),
];

/// What is left to do once a command has run: exit with a status, or open the console on the
/// project (after `estate demo`, or `estate` alone), which `main` does: the CLI knows no console.
pub enum Next {
    Exit(u8),
    Console(Box<Project>, u8),
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
        return Ok(Next::Console(Box::new(open(config, registered).await?), EXIT_OK));
    };
    let status = match command {
        Command::Check(flag) => check(&config, registered, flag.json),
        Command::Demo => {
            if config.read_only {
                return Err(read_only("the demo"));
            }
            return demo(open(config, registered).await?).await;
        }
        Command::Modules(flag) => {
            let project = open(config, registered).await?;
            let installs = project.installations().await?;
            if flag.json {
                let rows = project.modules().await?;
                print_json(&rows);
            } else {
                let lookup = |n: &str| project.migrator(n).cloned();
                out!(
                    "{}",
                    colour(render::modules(
                        project.catalog(),
                        &lookup,
                        project.config().tenancy.layout.engine(),
                        &installs
                    ))
                );
            }
            Ok(EXIT_OK)
        }
        Command::Tenants(TenantsCommand::List(flag)) => {
            let project = open(config, registered).await?;
            let tenants = project.tenants().await?;
            let installs = project.installations().await?;
            if flag.json {
                let rows: Vec<_> = tenants
                    .iter()
                    .map(|t| {
                        let modules: Vec<&str> =
                            installs.iter().filter(|i| i.tenant == t.slug).map(|i| i.module.as_str()).collect();
                        json!({
                            "slug": t.slug, "name": t.name, "engine": t.placement.engine,
                            "server": t.placement.server, "location": t.placement.location,
                            "schema": t.placement.schema, "created_at": t.created_at, "modules": modules,
                        })
                    })
                    .collect();
                print_json(&rows);
            } else {
                out!("{}", colour(render::tenants(&tenants, &installs)));
            }
            Ok(EXIT_OK)
        }
        Command::Tenants(TenantsCommand::Add {
            slug,
            name,
            server,
            json,
        }) => {
            Slug::parse(&slug)?;
            // Before the landlord is opened (and, on a new project, created).
            if let Some(name) = &name {
                estate_engine::check_name(name)?;
            }
            if config.read_only {
                return Err(read_only("adding a tenant"));
            }
            let project = open(config, registered).await?;
            let record = project
                .add_tenant(&slug, name.as_deref(), server.as_deref())
                .await?;
            if json {
                print_json(&record);
            } else {
                outln!(
                    "added tenant {} ({}), database {}",
                    record.slug,
                    record.name,
                    record.placement.describe()
                );
            }
            Ok(EXIT_OK)
        }
        Command::Install(args) => {
            let selection = selection(&args.targets)?;
            let project = open(config, registered).await?;
            let plan = project.plan_install(&args.modules, &selection).await?;
            execute(&project, plan, &args.run, false).await
        }
        Command::Rollback(args) => rollback(config, registered, args).await,
        Command::Migrate(args) => migrate(config, registered, args).await,
        Command::Status(args) => status(config, registered, args).await,
        Command::History(args) => history(config, registered, args).await,
        Command::Verify(args) => verify(config, registered, args).await,
        Command::Resolve(args) => resolve(config, registered, args).await,
        Command::New(command) => authoring::new(&config, command),
        Command::Graph(args) => authoring::graph(&config, args.format),
        Command::Tables(flag) => authoring::tables(&config, flag.json),
    }?;
    Ok(Next::Exit(status))
}

fn read_only(what: &str) -> Error {
    Error::refused(
        format!("read-only mode: {what} would change the databases"),
        "run without --read-only (and without read_only = true in the config or ESTATE_READ_ONLY)",
    )
}

async fn open(config: Config, registered: &RegisteredMigrators) -> Result<Project> {
    let project = Project::open_with(config, registered.clone()).await?;
    if !project.catalog().problems.is_empty() {
        errln!(
            "warning: {} problem(s) in the contexts; `estate check` lists them. Installs and rollbacks are refused until they are fixed.",
            project.catalog().problems.len()
        );
    }
    Ok(project)
}

fn selection(targets: &Targets) -> Result<TenantSelection> {
    if targets.all {
        return Ok(TenantSelection::All);
    }
    Ok(TenantSelection::Only(slugs(&targets.tenants)?))
}

/// Every slug validated, or the first bad one refused.
fn slugs(tenants: &[String]) -> Result<Vec<Slug>> {
    tenants.iter().map(|t| Slug::parse(t)).collect()
}

fn check(config: &Config, registered: &RegisteredMigrators, json: bool) -> Result<u8> {
    config.require_contexts_folder()?;
    let mut catalog = Catalog::load(&config.contexts)?;
    let unknown: Vec<&str> = registered
        .contexts()
        .filter(|c| catalog.get(c).is_none())
        .collect();
    for unknown in unknown {
        catalog.problems.push(Problem::new(
            &config.contexts,
            format!("has no context {unknown:?}, for which this binary registers a Rust migrator"),
            format!(
                "add the folder {unknown}/ with its context.toml (name, title, version, requires)"
            ),
        ));
    }
    // Contexts whose Rust migrator another binary holds: listed, not refused, since this
    // binary still serves every other module.
    let elsewhere: Vec<(&str, &str)> = catalog
        .contexts
        .values()
        .filter(|c| !registered.contains(c.name()))
        .filter_map(|c| Some((c.name(), c.manifest.migrator_binary.as_deref()?)))
        .collect();
    let conflicts = &catalog.tables.conflicts;
    if json {
        let elsewhere: Vec<_> = elsewhere
            .iter()
            .map(|(context, binary)| json!({ "context": context, "binary": binary }))
            .collect();
        print_json(&json!({
            "ok": catalog.problems.is_empty(),
            "config": config.file,
            "contexts": catalog.contexts.len(),
            "migrations": catalog.migration_count(),
            "problems": catalog.problems,
            "tables_claimed_twice": conflicts,
            "migrators_elsewhere": elsewhere,
        }));
    } else if catalog.problems.is_empty() {
        authoring::warn_conflicts(conflicts);
        for (context, binary) in &elsewhere {
            errln!(
                "note: {context}'s migrator is Rust code in the binary `{binary}`; this binary cannot install, roll back or migrate {context} (run `{binary}` for it)"
            );
        }
        outln!(
            "ok: {} contexts, {} migrations ({}; contexts in {})",
            catalog.contexts.len(),
            catalog.migration_count(),
            config.file.display(),
            config.contexts.display()
        );
    } else {
        err!("{}", colour_err(render::problems(&catalog.problems)));
        authoring::warn_conflicts(conflicts);
        errln!(
            "{} problem(s) found; nothing was changed",
            catalog.problems.len()
        );
    }
    Ok(if catalog.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_REFUSED
    })
}

async fn rollback(
    config: Config,
    registered: &RegisteredMigrators,
    args: RollbackArgs,
) -> Result<u8> {
    let selection = selection(&args.targets)?;
    let project = open(config, registered).await?;
    let plan = project
        .plan_rollback(&args.modules, &selection, args.cascade)
        .await?;
    let ask = !args.yes
        && !args.run.json
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    execute(&project, plan, &args.run, ask).await
}

async fn migrate(
    config: Config,
    registered: &RegisteredMigrators,
    args: MigrateArgs,
) -> Result<u8> {
    let selection = if args.tenants.is_empty() {
        TenantSelection::All
    } else {
        TenantSelection::Only(slugs(&args.tenants)?)
    };
    let scopes: &[Scope] = match args.scope {
        ScopeArg::Landlord => &[Scope::Landlord],
        ScopeArg::Tenant => &[Scope::Tenant],
        ScopeArg::All => &Scope::ALL,
    };
    let project = open(config, registered).await?;
    let plan = project
        .plan_migrate(&args.modules, &selection, scopes)
        .await?;
    execute(&project, plan, &args.run, false).await
}

/// Shows the plan, then (unless a dry run) runs it with progress on stderr and reports.
async fn execute(project: &Project, plan: Plan, flags: &RunFlags, confirm: bool) -> Result<u8> {
    if flags.dry_run || plan.is_empty() {
        if flags.json {
            print_json(&json!({ "dry_run": flags.dry_run, "plan": plan, "report": null }));
        } else {
            out!("{}", colour(render::plan(&plan, flags.dry_run)));
            if flags.dry_run {
                outln!("dry run: nothing was changed");
            }
        }
        return Ok(EXIT_OK);
    }
    project.ensure_writable(&format!("{} {}", plan.action, plan.modules.join(" ")))?;
    if !flags.json {
        out!("{}", colour(render::plan(&plan, false)));
    }
    if confirm && !confirmed(&plan)? {
        return Err(Error::refused(
            "not confirmed: nothing was changed",
            "answer y to run the plan, or pass --yes",
        ));
    }
    let control = JobControl::default().with_max_failures(flags.max_failures());
    let (tx, mut rx) = unbounded_channel();
    let show_progress = !flags.json;
    let progress = async {
        let mut shown = progress::JobProgress::new(std::io::stderr().is_terminal());
        while let Some(event) = rx.recv().await {
            if show_progress {
                shown.on(&event);
            }
        }
    };
    let signals = crate::signals::Signals::install();
    let interrupt = tokio::spawn({
        let control = control.clone();
        async move {
            let Some(mut signals) = signals else { return };
            let first = signals.next().await;
            tracing::warn!(
                signal = first.name(),
                "stopping the job at the next migration boundary"
            );
            errln!(
                "{}: stopping after the migrations under way (Ctrl-C again to force)",
                first.name()
            );
            control.cancel();
            loop {
                // A hangup again changes nothing: nobody is there. Asked twice otherwise,
                // stop now: each migration is atomic with its ledger row, so a forced stop
                // loses at most the one under way, never half of it.
                let again = signals.next().await;
                if again != crate::signals::Stop::Hangup {
                    std::process::exit(again.exit_status());
                }
            }
        }
    });
    let (report, ()) = tokio::join!(project.run(&plan, Some(tx), control.clone()), progress);
    interrupt.abort();
    let report = report?;
    if flags.json {
        print_json(&json!({ "dry_run": false, "plan": plan, "report": report }));
    } else {
        out!("{}", colour(render::report(&report)));
    }
    Ok(if report.is_success() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn confirmed(plan: &Plan) -> Result<bool> {
    err!(
        "{} {} step(s), {} migration(s) to revert. Proceed? [y/N] ",
        plan.action,
        plan.step_count(),
        plan.migration_count()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

async fn status(config: Config, registered: &RegisteredMigrators, args: StatusArgs) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    let project = open(config, registered).await?;
    let rows = project.status(args.tenant.as_deref()).await?;
    if args.json {
        print_json(&rows);
    } else {
        out!(
            "{}",
            colour(render::matrix(&rows, &placements(&project).await?))
        );
    }
    Ok(EXIT_OK)
}

/// Exit 0 when nothing is wrong (after the repair, with --repair), 1 when findings remain.
async fn verify(config: Config, registered: &RegisteredMigrators, args: VerifyArgs) -> Result<u8> {
    let selection = if args.tenants.is_empty() {
        TenantSelection::All
    } else {
        TenantSelection::Only(slugs(&args.tenants)?)
    };
    let project = open(config, registered).await?;
    let report = project.verify(&selection, args.repair).await?;
    if args.json {
        print_json(&report);
    } else {
        out!("{}", colour(render::findings(&report)));
    }
    Ok(if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

async fn resolve(
    config: Config,
    registered: &RegisteredMigrators,
    args: ResolveArgs,
) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    if config.read_only {
        return Err(read_only("resolve"));
    }
    let resolution = if args.completed {
        Resolution::Completed
    } else {
        Resolution::Undone
    };
    let project = open(config, registered).await?;
    let resolved = project
        .resolve(&args.context, args.tenant.as_deref(), resolution)
        .await?;
    if args.json {
        print_json(&resolved);
    } else {
        let u = &resolved.unfinished;
        outln!(
            "resolved on {}: {} {} migration {:04} ({}) is now recorded as {}",
            resolved.database,
            u.context,
            u.scope,
            u.version,
            u.description,
            resolved.recorded.replace('_', " ")
        );
    }
    Ok(EXIT_OK)
}

async fn history(
    config: Config,
    registered: &RegisteredMigrators,
    args: HistoryArgs,
) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    let project = open(config, registered).await?;
    let entries = project
        .history(args.module.as_deref(), args.tenant.as_deref(), args.limit)
        .await?;
    if args.json {
        print_json(&entries);
    } else {
        out!("{}", colour(render::history(&entries)));
    }
    Ok(EXIT_OK)
}

async fn demo(project: Project) -> Result<Next> {
    project.catalog().ensure_valid()?;
    for (slug, name, _) in DEMO {
        if project.tenant(slug).await?.is_none() {
            project.add_tenant(slug, Some(name), None).await?;
            outln!("added tenant {slug} ({name})");
        }
    }
    let mut status = EXIT_OK;
    for (slug, _, modules) in DEMO {
        let modules: Vec<String> = modules
            .iter()
            .filter(|m| project.catalog().get(m).is_some())
            .map(|m| m.to_string())
            .collect();
        let plan = project
            .plan_install(&modules, &TenantSelection::Only(vec![Slug::parse(slug)?]))
            .await?;
        if plan.is_empty() {
            continue;
        }
        let report = project.run(&plan, None, JobControl::default()).await?;
        outln!(
            "installed {} for {slug}: {} migrations",
            modules.join(", "),
            report.migrations()
        );
        if !report.is_success() {
            out!("{}", colour(render::report(&report)));
            status = EXIT_FAILED;
        }
    }
    outln!();
    let rows = project.status(None).await?;
    out!(
        "{}",
        colour(render::matrix(&rows, &placements(&project).await?))
    );
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(Next::Console(Box::new(project), status));
    }
    outln!(
        "\nnext: `estate` opens the console; `estate history`, `estate install calendar --all`, `estate rollback calendar --tenant acme`"
    );
    Ok(Next::Exit(status))
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

/// Where each tenant lives, for the matrix: only when tenants live on PostgreSQL servers (a
/// SQLite file per tenant says nothing the slug does not).
async fn placements(project: &Project) -> Result<std::collections::BTreeMap<String, String>> {
    Ok(project
        .tenants()
        .await?
        .into_iter()
        .filter(|t| t.placement.server.is_some())
        .map(|t| (t.slug, t.placement.describe()))
        .collect())
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
