//! The shared pools of schema-layout tenants (one per server and database, holding one
//! connection per tenant at work) and the server's permits that bound those tenants, opened
//! ahead of a job's first tenants.

use std::sync::Arc;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::Server;
use crate::error::Result;
use crate::sync::lock;

impl Server {
    /// What a tenant's work on this server holds while it runs: [`Server::concurrency`] of
    /// them, shared by every job of this process, as the shared pools hold that many
    /// connections. Jobs side by side (the console runs several) wait their turn here, not in
    /// a pool's acquire, which gives up after the connect timeout.
    pub fn permits(&self) -> Arc<tokio::sync::Semaphore> {
        self.state
            .permits
            .get_or_init(|| Arc::new(tokio::sync::Semaphore::new(self.concurrency)))
            .clone()
    }

    /// Opens, in the background, the connections the shared pools of this server will want
    /// for a job over `tenants` tenants (at most the server's concurrency), so the job's first
    /// tenants find them made while it records its start, rather than each waiting for its
    /// own backend and SCRAM exchange as it comes. Failures are left to the tenants' own
    /// work, which says them.
    pub fn warm_shared_pools(&self, tenants: usize) {
        let want = tenants.min(self.concurrency);
        let pools: Vec<PgPool> = lock(&self.state.shared).values().cloned().collect();
        for pool in pools {
            if pool.size() as usize >= want {
                continue;
            }
            // Held together until all are made: taken one after another, each would come
            // back to the pool for the next to reuse.
            tokio::spawn(async move {
                drop(futures::future::join_all((0..want).map(|_| pool.acquire())).await);
            });
        }
    }
}

/// The server's pool for a database that schema-layout tenants share, made at first use (a
/// down server is said at once; a missing database, by the pool's first connection).
pub(super) async fn shared_pool(label: &str, server: &Server, database: &str) -> Result<PgPool> {
    if let Some(pool) = lock(&server.state.shared).get(database) {
        return Ok(pool.clone());
    }
    // A server not known to be up is asked whether it answers, so a refused connection is
    // said at once (the pool would retry it until its acquire timeout). One that answered
    // already is not asked again. A missing database is not retried by the pool: its first
    // use (through `fail_fast`) names it.
    if !server.is_up() {
        server.answers(database).await?.map_err(|e| {
            server.set_up(false);
            server.fail(label, e)
        })?;
        server.set_up(true);
    }
    let options = server
        .options_for(database)?
        // Empty: outside a tenant's transaction, no schema is there to land in.
        .options([("search_path", "''")]);
    // Exactly one connection per tenant at work (the server's permits), not one spare: a
    // connection left idle while others run DDL in the same database falls behind on their
    // catalog invalidations, then is signalled to catch up or rebuilds its caches whole. With
    // a spare, the tenants' turns rotated over one more connection than ran, and their
    // backends spent a fifth more CPU for the same DDL (1,000 schemas, 2 at once, `perf`).
    // Each tenant's work takes one connection at a time, so none waits on another.
    let pool = PgPoolOptions::new()
        .max_connections(server.concurrency as u32)
        .acquire_timeout(server.acquire_timeout())
        .test_before_acquire(false)
        .connect_lazy_with(options);
    // Two tenants may have raced here: the first pool in wins, the other is never used.
    Ok(lock(&server.state.shared)
        .entry(database.to_string())
        .or_insert(pool)
        .clone())
}
