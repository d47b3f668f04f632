//! The program: the command line read, the config loaded, the log opened, then the CLI's
//! command run, or the console opened. `estate`'s own `main` is `App::new().run()`; a binary of
//! a user's own registers its Rust migrators first and gets every command and the console with
//! them:
//!
//! ```no_run
//! # use estate::engine::{MigrationInfo, MigrationRun, ModuleMigrator, RunContext, Scope,
//! #     ScopeStatus, Target, Engine, Result, database::Database};
//! # struct AuditMigrator;
//! # #[async_trait::async_trait]
//! # impl ModuleMigrator for AuditMigrator {
//! #     fn context(&self) -> &str { "audit" }
//! #     fn migrations(&self, _: Scope, _: Engine) -> Vec<MigrationInfo> { Vec::new() }
//! #     async fn status(&self, _: Scope, _: &Database) -> Result<ScopeStatus> { unimplemented!() }
//! #     async fn migrate(&self, _: Scope, _: &Database, _: Target, _: &RunContext) -> Result<Vec<MigrationRun>> { unimplemented!() }
//! #     async fn rollback(&self, _: Scope, _: &Database, _: Target, _: &RunContext) -> Result<Vec<MigrationRun>> { unimplemented!() }
//! # }
//! fn main() -> std::process::ExitCode {
//!     estate::App::new().migrator("audit", || AuditMigrator).run()
//! }
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use estate_engine::{ModuleMigrator, RegisteredMigrators};

use crate::cli::{self, Cli, Next};

/// estate as a program, with the Rust migrators of the binary that runs it.
#[derive(Default)]
pub struct App {
    registered: RegisteredMigrators,
}

impl App {
    pub fn new() -> App {
        App::default()
    }

    /// Gives `context` a Rust migrator: `factory` builds it for every project the binary opens
    /// (each command, and the console at start, on reload and on verify). The context is a
    /// folder in the contexts folder with its `context.toml`; its manifest may say
    /// `[migrator] binary = "NAME"` so that other binaries name this one.
    pub fn migrator<M, F>(mut self, context: &str, factory: F) -> App
    where
        M: ModuleMigrator + 'static,
        F: Fn() -> M + Send + Sync + 'static,
    {
        self.registered.register(context, factory);
        self
    }

    /// Reads the process's command line and runs it; the exit status follows the CLI contract
    /// (0 done, 1 some steps failed, 2 refused before anything ran).
    pub fn run(self) -> ExitCode {
        // Asked before parsing: a script that asked for JSON reads even a usage error as JSON.
        let json = std::env::args_os().skip(1).any(|a| a == "--json");
        match Cli::try_parse() {
            Ok(cli) => self.run_with(cli, json),
            Err(e) if json && e.use_stderr() => {
                let text = e.render().to_string();
                let message: Vec<&str> = text
                    .lines()
                    .take_while(|l| !l.starts_with("Usage:"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                let message = message.join(" ");
                let usage = text.lines().find(|l| l.starts_with("Usage:"));
                let fix = match usage {
                    Some(u) => format!("{u} (`--help` says more)"),
                    None => "`estate --help` lists the commands and their flags".to_string(),
                };
                print_error_json(message.trim_start_matches("error: "), Some(&fix));
                ExitCode::from(cli::EXIT_REFUSED)
            }
            Err(e) => e.exit(),
        }
    }

    fn run_with(self, cli: Cli, json: bool) -> ExitCode {
        // Tenant databases, lock files and logs hold customers' data and who did what:
        // everything estate creates is for its owner alone (0600 files, 0700 folders).
        // SAFETY: umask has no preconditions; it is set before this program starts a thread.
        unsafe { libc::umask(0o077) };
        keep_large_allocations_apart();
        // Panics and unexpected errors get a readable report, and the terminal is left usable.
        let _ = color_eyre::install();
        let runtime = match runtime_for(&cli).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                return ExitCode::from(cli::EXIT_FAILED);
            }
        };
        let result = runtime.block_on(self.dispatch(cli));
        // The program is ending: its tasks get a moment, not forever. A sqlx pool still alive
        // when the runtime stops (a connection's return to it still queued) has a maintenance
        // task that spins once the runtime's timers are gone, and dropping the runtime would
        // wait for it without end.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        match result {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                use std::io::Write;
                // Every variant's message already includes its cause.
                let _ = writeln!(std::io::stderr(), "error: {e}");
                if json {
                    let (message, fix) = e.message_and_fix();
                    print_error_json(&message, fix.as_deref());
                }
                ExitCode::from(if e.is_refusal() {
                    cli::EXIT_REFUSED
                } else {
                    cli::EXIT_FAILED
                })
            }
        }
    }

    async fn dispatch(self, cli: Cli) -> estate_engine::Result<u8> {
        let config = cli::config(&cli)?;
        crate::logging::check_level(&config)?;
        let _log = crate::logging::init(&config);
        let next = cli::run(cli, config, &self.registered).await;
        // A landlord without a registry is refused leaving no trace; anything else is logged
        // (the log started already if the project opened).
        if !next.as_ref().is_err_and(|e| e.is_no_registry()) {
            crate::logging::start();
        }
        match next? {
            Next::Exit(code) => Ok(code),
            Next::Console(project, code) => {
                crate::logging::pause_stderr(true);
                let ran = crate::tui::run(Arc::from(project)).await;
                crate::logging::pause_stderr(false);
                ran?;
                Ok(code)
            }
        }
    }
}

/// The runtime a command line runs on. A command waits on its databases far more than it
/// computes, and on one thread each task runs the moment its reply arrives: with a pool of
/// workers, a reply woke one thread that handed the task to another, a wake-up that waits for
/// a CPU the servers' backends keep busy. On 300 schemas, two tenants at once on a 2-core
/// machine, the backends' idle time between a tenant's round trips went from 430-540 ms to
/// 290-340 ms, and the install from 1.2 s to 0.85 s. Database work off the runtime (SQLite's
/// connections have threads of their own) is unaffected. The console keeps the pool: it
/// blocks a thread on the terminal (`block_in_place`) and its own threads drive the runtime
/// through `Handle::block_on`, which a runtime of one thread cannot serve.
fn runtime_for(cli: &cli::Cli) -> tokio::runtime::Builder {
    if cli::may_open_console(cli) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
}

/// `{"error": {"message": …, "fix": …}}` on stdout, where a script that asked for JSON reads.
fn print_error_json(message: &str, fix: Option<&str>) {
    use std::io::Write;
    let doc = serde_json::json!({ "error": { "message": message, "fix": fix } });
    let _ = writeln!(std::io::stdout(), "{doc}");
}

/// Large buffers (a registry read of 100,000 tenants, a plan's vectors) are mapped apart and
/// handed back when freed. glibc raises its threshold for that to the size of each such
/// buffer freed, after which they came from the heap and their holes stayed: a plan over
/// 100,000 tenants peaked at 150 MiB of memory with 87 MiB in use; with the threshold kept
/// at glibc's own starting value, 124 MiB.
fn keep_large_allocations_apart() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
