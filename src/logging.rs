//! The log file: everything estate does goes to `var/log/estate.log.<date>` (rolled daily),
//! never to the terminal, so `--json` output and the console stay clean.
//!
//! The file is made only once the command is known to leave a trace ([`start`]: the project
//! opened, or the command over and not refused for a missing registry); until then lines are
//! held in memory. A command refused because the landlord holds no registry must create
//! nothing, and a log folder it made would itself look like the trace of an earlier project.
//!
//! In read-only mode nothing is written anywhere: the lines go to stderr instead of a file,
//! and while the console holds the terminal they wait in memory until it closes.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

use estate_engine::{Config, Error};

/// What is held before the file is made: a command's start, not a job's log.
const HELD_AT_MOST: usize = 1 << 20;

/// The log's one destination, shared by the writer and [`start`].
static LOG: OnceLock<Arc<Mutex<Destination>>> = OnceLock::new();

struct Destination {
    dir: PathBuf,
    held: Vec<u8>,
    file: Option<RollingFileAppender>,
    /// The folder or the file could not be made: estate runs without a log file.
    failed: bool,
    /// Read-only: started, the lines go to stderr, never to a file.
    stderr: bool,
    started: bool,
    /// The console holds the terminal: stderr lines wait in `held`.
    paused: bool,
}

impl Destination {
    fn hold(&mut self, buf: &[u8]) {
        if !self.failed && self.held.len() + buf.len() <= HELD_AT_MOST {
            self.held.extend_from_slice(buf);
        }
    }
}

/// The writer the log's background thread writes to: the file once started, memory before.
struct Deferred(Arc<Mutex<Destination>>);

impl Write for Deferred {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut d = estate_engine::sync::lock(&self.0);
        if let Some(file) = &mut d.file {
            return file.write(buf);
        }
        if d.stderr && d.started && !d.paused {
            let _ = std::io::stderr().write_all(buf);
        } else {
            d.hold(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut estate_engine::sync::lock(&self.0).file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Starts logging to the configured folder, holding the lines until [`start`]. Returns the
/// guard that flushes the log when dropped; `None` when no logger could be installed.
/// The log's filter: sqlx's statements kept out (they belong in a debug session, not the
/// audit trail), then the config's level.
fn filter_of(config: &Config) -> Result<EnvFilter, String> {
    EnvFilter::try_new(format!("sqlx=warn,{}", config.log_level)).map_err(|e| e.to_string())
}

/// Refuses a log level that is not a filter (`ESTATE_LOG=garbage[[[`), naming it and the fix,
/// rather than logging at another level than the operator asked for.
pub fn check_level(config: &Config) -> estate_engine::Result<()> {
    filter_of(config).map(drop).map_err(|e| {
        Error::refused(
            format!("the log level {:?} is not a filter: {e}", config.log_level),
            "set [log] level in the config (or ESTATE_LOG) to error, warn, info, debug or trace, or per module (estate=debug)",
        )
    })
}

pub fn init(config: &Config) -> Option<WorkerGuard> {
    let destination = LOG
        .get_or_init(|| {
            Arc::new(Mutex::new(Destination {
                dir: config.log_dir.clone(),
                held: Vec::new(),
                file: None,
                failed: false,
                stderr: config.read_only,
                started: false,
                paused: false,
            }))
        })
        .clone();
    let (writer, guard) = tracing_appender::non_blocking(Deferred(destination));
    // sqlx logs every statement at info; that belongs in a debug session, not the audit trail.
    // Read-only, the lines go to the operator's terminal: at the default level only warnings
    // and errors (a level set in the config or ESTATE_LOG is taken as it is).
    let filter = if config.read_only && config.log_level == "info" {
        EnvFilter::new("warn")
    } else {
        filter_of(config).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
    };
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Makes the log folder and file, and writes what was held. Idempotent.
pub fn start() {
    let Some(destination) = LOG.get() else {
        return;
    };
    let mut d = estate_engine::sync::lock(destination);
    if d.file.is_some() || d.failed || d.started {
        return;
    }
    d.started = true;
    if d.stderr {
        if !d.paused {
            let held = std::mem::take(&mut d.held);
            let _ = std::io::stderr().write_all(&held);
        }
        return;
    }
    let file = estate_engine::files::create_dir(&d.dir)
        .ok()
        .and_then(|()| {
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("estate.log")
                .build(&d.dir)
                .ok()
        });
    let Some(mut file) = file else {
        d.failed = true;
        d.held = Vec::new();
        return;
    };
    let held = std::mem::take(&mut d.held);
    let _ = file.write_all(&held);
    d.file = Some(file);
}

/// While the console holds the terminal (`paused`), lines meant for stderr (read-only mode)
/// wait in memory; once it lets go, they are written.
pub fn pause_stderr(paused: bool) {
    let Some(destination) = LOG.get() else {
        return;
    };
    let mut d = estate_engine::sync::lock(destination);
    d.paused = paused;
    if !paused && d.stderr && d.started {
        let held = std::mem::take(&mut d.held);
        let _ = std::io::stderr().write_all(&held);
    }
}
