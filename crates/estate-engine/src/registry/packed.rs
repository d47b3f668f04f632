//! Reading a whole registry table in one fetched value: the rows packed by the database into
//! one JSON array of arrays, unpacked here into tuples.
//!
//! A fetched row is what a read costs, not its bytes: sqlx hands each SQLite row from its
//! worker thread through a channel, and at 100,000 tenants a row-by-row read of the tenants
//! and their installations was most of a no-op `migrate --all` (futex wake-ups, one a row).
//! JSON, not a separator of our own, because a tenant's name, a placement or an error is any
//! text.

use serde::de::DeserializeOwned;

use super::Registry;
use crate::database::Pool;
use crate::error::{Error, Result};

impl Registry {
    /// Every row of `from` as a `T` (a tuple of `columns`' types, in their order). Both
    /// arguments are fixed SQL (`'static`), never input. No order: callers sort.
    pub(super) async fn packed_rows<T: DeserializeOwned>(
        &self,
        columns: &'static str,
        from: &'static str,
    ) -> Result<Vec<T>> {
        let packed: Option<String> = match &self.bulk().await.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT json_group_array(json_array({columns})) FROM {from}"
                )))
                .fetch_one(pool)
                .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT json_agg(json_build_array({columns}))::text FROM {from}"
                )))
                .fetch_one(pool)
                .await
            }
        }
        .map_err(|e| self.err(e))?;
        let Some(packed) = packed else {
            return Ok(Vec::new());
        };
        serde_json::from_str(&packed).map_err(|e| {
            Error::refused(
                format!("the registry's {from} table holds a row estate cannot read: {e}"),
                "check that table in the landlord for a value of the wrong type",
            )
        })
    }
}
