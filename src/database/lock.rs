//! The advisory lock that keeps two estate jobs from migrating the same database at once.
//!
//! For SQLite it is an OS file lock on a sidecar `<file>.lock`, not on the database file
//! itself: SQLite's own POSIX locks are dropped when any descriptor of the file is closed, so
//! estate must never open the database file outside SQLite. The lock dies with the process, so
//! a killed job never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a job migrates a database; released on drop.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
    path: PathBuf,
}

impl DatabaseLock {
    pub fn acquire(label: &str, database: &Path) -> Result<DatabaseLock> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening lock file {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => Ok(DatabaseLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                database: label.to_string(),
                lock: path,
            }),
            Err(TryLockError::Error(e)) => Err(Error::io(format!("locking {}", path.display()), e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
