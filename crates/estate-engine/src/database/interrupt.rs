//! Stopping the statements this process runs, when a job must end now rather than at its
//! next migration boundary (a signal's grace is over): SQLite connections check a flag from
//! their progress handler and abort the statement under way; each PostgreSQL server is asked
//! to cancel this process's active statements, found by the application name every estate
//! connection carries. An interrupted statement fails, its transaction rolls back whole, and
//! its migration stays unapplied, as after a kill. The programs estate runs (command
//! migrators) are stopped too: their process groups get SIGTERM.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Server;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The process groups of the programs running now.
static PROGRAMS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Whether statements and programs are being interrupted (a program started now is not).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// A program's process group, stopped with the statements while it is registered.
pub(crate) fn program_started(group: i32) {
    crate::sync::lock(&PROGRAMS).insert(group);
}

pub(crate) fn program_ended(group: i32) {
    crate::sync::lock(&PROGRAMS).remove(&group);
}

/// Kills every migrator program running now, at once: estate is about to exit (asked twice
/// to stop), and a program left running would go on without estate's lock.
pub fn kill_programs() {
    for group in crate::sync::lock(&PROGRAMS).iter() {
        tracing::warn!(
            process_group = group,
            "killing a migrator program: estate exits"
        );
        // SAFETY: killpg only sends a signal; the group is one this process started.
        unsafe { libc::killpg(*group, libc::SIGKILL) };
    }
}

/// How many SQLite virtual machine instructions run between two looks at the flag: often
/// enough to stop within milliseconds, rarely enough to cost nothing measurable.
pub(super) const SQLITE_CHECK_EVERY: i32 = 10_000;

/// SQLite's progress handler: `false` aborts the statement under way.
pub(super) fn sqlite_may_go_on() -> bool {
    !INTERRUPTED.load(Ordering::Relaxed)
}

/// Interrupts every statement this process runs now and from now on, on SQLite and on each of
/// `servers`. A server that cannot be reached is logged and passed over: its connections are
/// gone with it.
pub async fn interrupt_statements(servers: &[Server]) {
    INTERRUPTED.store(true, Ordering::Relaxed);
    tracing::warn!("interrupting the statements under way");
    for group in crate::sync::lock(&PROGRAMS).iter() {
        tracing::warn!(process_group = group, "stopping a migrator program");
        // SAFETY: killpg only sends a signal; the group is one this process started.
        unsafe { libc::killpg(*group, libc::SIGTERM) };
    }
    for server in servers {
        match server.cancel_statements().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(server = %server.name, statements = n, "statements cancelled")
            }
            Err(e) => {
                tracing::warn!(server = %server.name, error = %e, "could not cancel the statements")
            }
        }
    }
}
