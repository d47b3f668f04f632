//! The one error type of the library.
//!
//! Errors fall in two classes that the CLI turns into exit statuses: a *refusal* (bad input,
//! invalid config or context, dependency problem, drift) is found before anything runs and maps
//! to exit status 2; anything else is a failure while running (a database error, an I/O error).
//! Every refusal carries the problem and the fix, so the operator knows what to do next.

use crate::problem::Problem;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Refused before anything ran: the input, the config or the state does not allow it.
    #[error("{problem}\n  fix: {fix}")]
    Refused { problem: String, fix: String },

    /// The landlord holds no registry, and this command may not create one: refused like any
    /// refusal, and told apart so that the program leaves no trace at all (not even a log file).
    #[error("{problem}\n  fix: {fix}")]
    NoRegistry { problem: String, fix: String },

    /// The contexts on disk are invalid; every problem found is listed.
    #[error("{} problem(s) in the contexts:\n{}\n  fix: correct the files above; `estate check` lists every problem", .0.len(), format_problems(.0))]
    Catalog(Vec<Problem>),

    /// An applied migration's file no longer matches what the ledger recorded.
    #[error(
        "migration {file} was changed after it was applied to {database}: the ledger recorded checksum {recorded}, the file now has {actual}\n  fix: restore the file as it was applied and put the change in a new migration; if the edit repaired a migration that failed on other tenants, run estate for those tenants only (--tenant SLUG)"
    )]
    Drift {
        file: String,
        database: String,
        recorded: String,
        actual: String,
    },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{database}: {}", database_message(source))]
    Database {
        database: String,
        #[source]
        source: sqlx::Error,
    },

    /// A migration's SQL failed; the transaction was rolled back.
    #[error("migration {file} failed on {database}: {message}")]
    MigrationFailed {
        file: String,
        database: String,
        message: String,
    },

    /// The target database is locked by another estate job.
    #[error(
        "{database} is locked by another estate job ({holder})\n  fix: wait for that job to finish, then run again"
    )]
    Locked { database: String, holder: String },

    /// The operator cancelled the job; the step stopped between two migrations, each of them
    /// fully applied or not at all.
    #[error(
        "cancelled by the operator after {done} migration(s), before {next}\n  fix: run the same command again to finish from here"
    )]
    Cancelled { done: usize, next: String },

    /// A hand-written migrator reported its own error.
    #[error("{0}")]
    Migrator(String),
}

impl Error {
    pub fn refused(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Refused {
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    pub fn db(database: impl Into<String>, source: sqlx::Error) -> Self {
        Error::Database {
            database: database.into(),
            source,
        }
    }

    /// True when the database could not be reached (no connection, or it broke): asking
    /// again at once would cost the same wait.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Database {
                source: sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_),
                ..
            }
        )
    }

    /// True when the error was raised before anything ran (exit status 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Refused { .. }
                | Error::NoRegistry { .. }
                | Error::Catalog(_)
                | Error::Drift { .. }
        )
    }

    /// The message and its fix apart (`{"error": {"message", "fix"}}` for scripts); the fix
    /// is `None` for an error that names none.
    pub fn message_and_fix(&self) -> (String, Option<String>) {
        let text = self.to_string();
        match text.rsplit_once("\n  fix: ") {
            Some((message, fix)) => (message.to_string(), Some(fix.to_string())),
            None => (text, None),
        }
    }

    /// True when the landlord held no registry and none was created.
    pub fn is_no_registry(&self) -> bool {
        matches!(self, Error::NoRegistry { .. })
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A database error as an operator reads it. sqlx ends PostgreSQL's errors with "at line N",
/// the line of PostgreSQL's own C source that raised it, which reads as a line of the
/// migration: left out.
fn database_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => format!("error returned from database: {}", d.message()),
        other => other.to_string(),
    }
}
