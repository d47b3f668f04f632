//! The `estate` binary: parses the command line and hands it to the library's CLI.

use std::process::ExitCode;

use clap::Parser;
use estate::cli::{self, Cli};

fn main() -> ExitCode {
    // Tenant databases, lock files and logs hold customers' data and who did what: everything
    // estate creates is for its owner alone (0600 files, 0700 folders).
    // SAFETY: umask has no preconditions; it is set before any thread exists.
    unsafe { libc::umask(0o077) };
    // Panics and unexpected errors get a readable report, and the terminal is left usable.
    let _ = color_eyre::install();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_FAILED);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            use std::io::Write;
            // Every variant's message already includes its cause.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(if e.is_refusal() {
                cli::EXIT_REFUSED
            } else {
                cli::EXIT_FAILED
            })
        }
    }
}
