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

#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub module: Option<String>,
    pub tenant: Option<String>,
    pub limit: Option<i64>,
}

impl Registry {
    /// History, oldest first; the newest `limit` rows when there is a limit. A tenant filter
    /// shows that tenant's rows only, so the answer is exactly "what ran there".
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, HistoryEntry>(
                "SELECT job_id, tenant, module, scope, action, operator, ssh_client, started_at, finished_at,
                        duration_ms, migrations, outcome, error
                 FROM estate_history
                 WHERE (CAST($1 AS TEXT) IS NULL OR module = $1) AND (CAST($2 AS TEXT) IS NULL OR tenant = $2)
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(&filter.module)
            .bind(&filter.tenant)
            .bind(filter.limit.unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
            .map(|mut rows| {
                rows.reverse();
                rows
            })
            .map_err(|e| self.err(e))
        })
    }
}
