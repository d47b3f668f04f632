//! `estate_history`: what ran, where, when, by whom and how long, one row per step.

use super::Registry;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub job_id: String,
    /// `None` for a step on the landlord scope.
    pub tenant: Option<String>,
    pub module: String,
    pub scope: String,
    pub action: String,
    pub operator: String,
    pub ssh_client: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: i64,
    /// The versions applied or reverted, comma-separated.
    pub migrations: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// Which history rows: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub module: Option<String>,
    pub tenant: Option<String>,
    pub job: Option<String>,
    /// Rows of steps started at or after this time (RFC 3339, as `clock::now` writes).
    pub since: Option<String>,
    /// Rows of steps that ended so: `succeeded` or `failed` (the console's `failed` term).
    pub outcome: Option<String>,
    /// The newest `limit` rows (after skipping `offset`); every row when `None`.
    pub limit: Option<i64>,
    /// Rows skipped from the newest, for a page further back.
    pub offset: i64,
}

/// A page of history, newest first, and how many rows the filter matches in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryEntry>,
    pub total: i64,
    /// Rows skipped from the newest: the page shows rows `offset + 1` to `offset + rows.len()`.
    pub offset: i64,
}

/// The filter's conditions, for `concat!` (a query's text stays a literal): $1 module,
/// $2 tenant, $3 job, $4 since, $5 outcome; bound by `bind_matching!`, never spliced.
macro_rules! matching {
    () => {
        " FROM estate_history
          WHERE (CAST($1 AS TEXT) IS NULL OR module = $1) AND (CAST($2 AS TEXT) IS NULL OR tenant = $2)
            AND (CAST($3 AS TEXT) IS NULL OR job_id = $3) AND (CAST($4 AS TEXT) IS NULL OR started_at >= $4)
            AND (CAST($5 AS TEXT) IS NULL OR outcome = $5)"
    };
}

/// Binds `matching!`'s parameters, in its order.
macro_rules! bind_matching {
    ($query:expr, $filter:expr) => {
        $query
            .bind(&$filter.module)
            .bind(&$filter.tenant)
            .bind(&$filter.job)
            .bind(&$filter.since)
            .bind(&$filter.outcome)
    };
}

impl Registry {
    /// History, oldest first; the newest `limit` rows when there is a limit. A tenant filter
    /// shows that tenant's rows only, so the answer is exactly "what ran there".
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        let mut rows = self.newest(filter).await?;
        rows.reverse();
        Ok(rows)
    }

    /// A page of history, newest first, with the number of rows the filter matches.
    pub async fn history_page(&self, filter: &HistoryFilter) -> Result<HistoryPage> {
        let rows = self.newest(filter).await?;
        let db = &self.db;
        let (total,): (i64,) = crate::on_pool!(db, pool => {
            bind_matching!(sqlx::query_as(concat!("SELECT COUNT(*)", matching!())), filter)
                .fetch_one(pool)
                .await
                .map_err(|e| self.err(e))?
        });
        Ok(HistoryPage {
            rows,
            total,
            offset: filter.offset,
        })
    }

    /// The rows `filter` matches, newest first.
    async fn newest(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            bind_matching!(sqlx::query_as::<_, HistoryEntry>(concat!(
                "SELECT job_id, tenant, module, scope, action, operator, ssh_client, started_at,
                        finished_at, duration_ms, migrations, outcome, error",
                matching!(),
                " ORDER BY id DESC LIMIT $6 OFFSET $7"
            )), filter)
            .bind(filter.limit.unwrap_or(i64::MAX))
            .bind(filter.offset.max(0))
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))
        })
    }
}
