//! SQLite, the embedded default: one file per database.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::Open;
use crate::error::{Error, Result};
use crate::files;

/// Read-only connections to an existing file (two, for two reads at once), for reads that
/// need not wait behind the writer's connection: SQLite lets readers share a file, and a
/// reader cannot deadlock a writer, which waits for it under its busy timeout.
pub(super) async fn open_reader(label: &str, path: &Path) -> Result<sqlx::SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        // Whole-table scans, read once: the system's file cache keeps the pages, and a
        // page cache of SQLite's own (2 MiB each by default) would only add to peak memory.
        .pragma("cache_size", "-256")
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(3600))
        .connect_with(options)
        .await
        .map_err(|e| Error::db(label, e))
}

pub(super) async fn open(label: &str, path: &Path, open: Open) -> Result<sqlx::SqlitePool> {
    files::refuse_symlink(label, path)?;
    if open == Open::Existing && !path.is_file() {
        return Err(Error::refused(
            format!("the {label} database {} does not exist", path.display()),
            "check the tenants path in the config, or provision the tenant with `estate tenants add`",
        ));
    }
    if open == Open::CreateIfMissing
        && let Some(dir) = path.parent()
    {
        files::create_dir(dir)
            .map_err(|e| Error::io(format!("creating folder {}", dir.display()), e))?;
        // Made here, owner-only, so SQLite opens it rather than creating it with its own
        // 0644 (its journal and WAL files copy the database file's mode).
        files::create_file(path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(open == Open::CreateIfMissing)
        .foreign_keys(true)
        // Another estate process (or the application) may hold the write lock briefly.
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        // One writer per file is all SQLite allows; a second connection would only wait.
        .max_connections(1)
        // So that a statement that runs away can be stopped (see `interrupt`).
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.lock_handle().await?.set_progress_handler(
                    super::interrupt::SQLITE_CHECK_EVERY,
                    super::interrupt::sqlite_may_go_on,
                );
                Ok(())
            })
        })
        // A long migration holds that connection; whoever waits for it (the registry's
        // recorder) must outlast it rather than fail after sqlx's default 30 s.
        .acquire_timeout(Duration::from_secs(3600))
        .connect_with(options)
        .await
        .map_err(|e| Error::db(label, e))
}
