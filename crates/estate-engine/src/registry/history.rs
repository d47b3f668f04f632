//! `estate_history`: what ran, where, when, by whom and how long, one row per step.

use super::Registry;
use crate::error::Result;
use crate::tenancy::TagCondition;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub job_id: String,
    /// `None` for a step on the landlord scope.
    pub tenant: Option<String>,
    /// `None` for a tenant's removal.
    pub module: Option<String>,
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

impl HistoryEntry {
    /// The module, or `-` for a row about the tenant itself (its removal).
    pub fn module_name(&self) -> &str {
        self.module.as_deref().unwrap_or("-")
    }
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
    /// Rows of the tenants whose tags meet every condition (`--where`).
    pub tags: Vec<TagCondition>,
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

/// Appends the filter's conditions to a query that has just said `FROM estate_history`,
/// every value bound, never spliced. A tag condition keeps the rows of tenants whose tags meet
/// it (`!=`: another value or no such tag), so landlord rows never match one.
macro_rules! push_matching {
    ($query:expr, $filter:expr) => {{
        let (q, f) = (&mut $query, $filter);
        q.push(" WHERE 1 = 1");
        let columns = [
            ("module", &f.module),
            ("tenant", &f.tenant),
            ("job_id", &f.job),
            ("outcome", &f.outcome),
        ];
        for (column, value) in columns {
            if let Some(value) = value {
                q.push(format_args!(" AND {column} = ")).push_bind(value.clone());
            }
        }
        if let Some(since) = &f.since {
            q.push(" AND started_at >= ").push_bind(since.clone());
        }
        for c in &f.tags {
            let op = if c.equal { "IN" } else { "NOT IN" };
            q.push(format_args!(
                " AND tenant IS NOT NULL AND tenant {op} (SELECT tenant FROM estate_tenant_tags WHERE key = "
            ))
            .push_bind(c.key.clone())
            .push(" AND value = ")
            .push_bind(c.value.clone())
            .push(")");
        }
    }};
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
            let mut q = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM estate_history");
            push_matching!(q, filter);
            q.build_query_as().fetch_one(pool).await.map_err(|e| self.err(e))?
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
            let mut q = sqlx::QueryBuilder::new(
                "SELECT job_id, tenant, module, scope, action, operator, ssh_client, started_at,
                        finished_at, duration_ms, migrations, outcome, error FROM estate_history",
            );
            push_matching!(q, filter);
            q.push(" ORDER BY id DESC LIMIT ")
                .push_bind(filter.limit.unwrap_or(i64::MAX))
                .push(" OFFSET ")
                .push_bind(filter.offset.max(0));
            q.build_query_as::<HistoryEntry>()
                .fetch_all(pool)
                .await
                .map_err(|e| self.err(e))
        })
    }
}
