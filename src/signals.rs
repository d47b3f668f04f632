//! The signals that stop a job, and how: SIGINT (Ctrl-C), SIGTERM (a service manager, `kill`)
//! and SIGHUP (the SSH session dropped) all ask the jobs under way to stop at their next
//! migration boundary, so every database is left with each migration applied whole or not at
//! all, and the job is recorded `interrupted` with what it did. A hangup leaves nobody to ask
//! twice: estate stops as soon as the boundary is reached, and the next console or CLI run
//! shows the job and picks up from there. A migration still running [`GRACE`] after the
//! signal has its statement interrupted, and rolls back whole.

/// How long the migrations under way may run on after a stopping signal before their
/// statements are interrupted (rolled back whole): a job stops within seconds.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// One of the signals that stop a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }

    /// The exit status of a process ended by this signal, as shells report it.
    pub fn exit_status(self) -> i32 {
        128 + match self {
            Stop::Interrupt => 2,
            Stop::Terminate => 15,
            Stop::Hangup => 1,
        }
    }
}

/// Listens for the stopping signals. Made once per process face (the CLI's job, the console);
/// `None` when the handlers cannot be installed (logged), and then only the default
/// dispositions apply.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(int), Ok(term), Ok(hup)) => Some(Signals { int, term, hup }),
            (int, term, hup) => {
                let error = [int.err(), term.err(), hup.err()]
                    .into_iter()
                    .flatten()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                tracing::error!(%error, "cannot listen for SIGINT, SIGTERM and SIGHUP");
                None
            }
        }
    }

    /// The next stopping signal.
    pub async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.int.recv() => Stop::Interrupt,
            _ = self.term.recv() => Stop::Terminate,
            _ = self.hup.recv() => Stop::Hangup,
        }
    }
}
