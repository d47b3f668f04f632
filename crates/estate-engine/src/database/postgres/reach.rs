//! Whether a server answers, said at once: a server marked down by an error that says it
//! cannot be reached, and work on a pool raced by a connection made by hand.
//!
//! sqlx's pool retries a refused connection until its acquire timeout: with a server gone
//! in the middle of a job, each of its tenants would wait that out in turn. A server not known
//! to be up is asked whether it takes a connection first ([`Server::answers`]), and a pool
//! still waiting after a moment is raced by a connection by hand, so a dead server costs its
//! tenants one connect, not a timeout each.

use std::time::Duration;

use sqlx::{Connection, PgPool};

use super::{Server, is_missing_database, missing};
use crate::error::{Error, Result};

/// How long a pool may try to connect before a connection by hand checks why.
const PROBE_AFTER: Duration = Duration::from_millis(500);

impl Server {
    /// Marks the server down when `e` says it cannot be reached.
    pub(super) fn note(&self, e: &sqlx::Error) {
        if is_unreachable(e) {
            self.set_up(false);
        }
    }
}

/// The server is gone or going: no connection, a pool that found none in time, or a
/// backend ended by a shutdown (admin_shutdown, crash_shutdown, cannot_connect_now).
fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => {
            matches!(d.code().as_deref(), Some("57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// `label` naming `server`: an opened database's label names it already ("tenant acme on
/// server pg2"), a bare one ("landlord") gets it.
pub(in crate::database) fn with_server(label: &str, server: &str) -> String {
    let suffix = format!(" on server {server}");
    if label.ends_with(&suffix) {
        label.to_string()
    } else {
        format!("{label}{suffix}")
    }
}

/// Makes the pool's first connection, failing fast on a server that is down or a database
/// that is missing. The connection stays in the pool for the work that follows.
pub(super) async fn first_connection(
    label: &str,
    server: &Server,
    database: &str,
    pool: &PgPool,
) -> Result<()> {
    fail_fast(label, server, database, async {
        pool.acquire().await.map(drop)
    })
    .await
}

/// A transaction on `pool`, a database of `server` opened as `label`, failing fast when the
/// server has gone since.
pub(in crate::database) async fn begin(
    label: &str,
    server: &Server,
    database: &str,
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    fail_fast(label, server, database, pool.begin()).await
}

/// [`begin`] with `statement` in place of `BEGIN` (it holds a `BEGIN`, and may do more before
/// it in the same round trip); `None` when a lock it takes timed out (SQLSTATE 55P03) or a
/// statement failed with one of the codes `giving_way` before its `BEGIN`: that ends the
/// message's implicit transaction and leaves the connection clean.
pub(in crate::database) async fn begin_with(
    label: &str,
    server: &Server,
    database: &str,
    pool: &PgPool,
    statement: String,
    giving_way: &[&str],
) -> Result<Option<sqlx::Transaction<'static, sqlx::Postgres>>> {
    fail_fast(label, server, database, async {
        match pool.begin_with(sqlx::AssertSqlSafe(statement)).await {
            Ok(tx) => Ok(Some(tx)),
            Err(sqlx::Error::Database(e))
                if e.code()
                    .is_some_and(|c| c == "55P03" || giving_way.contains(&c.as_ref())) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    })
    .await
}

/// Runs `work` (which waits on a pool) on `database`, failing fast on a server that is down
/// or a database that is missing: a server not known to be up is asked by hand first, and a
/// pool still waiting after a moment is raced by a connection made by hand.
pub(super) async fn fail_fast<T>(
    label: &str,
    server: &Server,
    database: &str,
    work: impl std::future::Future<Output = std::result::Result<T, sqlx::Error>>,
) -> Result<T> {
    let classify = |e: sqlx::Error| -> Error {
        if is_missing_database(&e) {
            missing(label, server, database, None)
        } else {
            server.fail(label, e)
        }
    };
    if !server.is_up() {
        // Nothing is known of this server yet, or it failed: ask whether it answers.
        server.answers(database).await?.map_err(|e| {
            server.set_up(false);
            classify(e)
        })?;
        server.set_up(true);
    }
    tokio::pin!(work);
    let probe = async {
        tokio::time::sleep(PROBE_AFTER).await;
        server.connect_to(database).await
    };
    tokio::select! {
        done = &mut work => return done.map_err(classify),
        probed = probe => match probed? {
            Ok(conn) => {
                let _ = conn.close().await;
            }
            Err(e) => {
                server.set_up(false);
                return Err(classify(e));
            }
        },
    }
    // The server answers by hand: the pool is only slow.
    work.await.map_err(classify)
}
