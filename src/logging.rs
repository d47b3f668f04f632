//! The log file: everything estate does goes to `var/log/estate.log.<date>` (rolled daily),
//! never to the terminal, so `--json` output and the console stay clean.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use estate_engine::Config;

/// Starts logging to the configured folder. Returns the guard that flushes the log when
/// dropped; `None` when the folder cannot be created (estate then runs without a log file).
pub fn init(config: &Config) -> Option<WorkerGuard> {
    estate_engine::files::create_dir(&config.log_dir).ok()?;
    let appender = tracing_appender::rolling::daily(&config.log_dir, "estate.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // sqlx logs every statement at info; that belongs in a debug session, not the audit trail.
    let directives = format!("sqlx=warn,{}", config.log_level);
    let filter =
        EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
