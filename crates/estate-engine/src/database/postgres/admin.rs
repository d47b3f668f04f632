//! What estate asks a server about itself, beside any tenant's work: the databases and schemas
//! on it (where unregistered tenants are looked for), a scratch database or a removed tenant's
//! database or schema dropped, and this process's statements cancelled.

use sqlx::Connection;

use super::Server;
use crate::error::Result;
use crate::sql::quote_ident;

impl Server {
    /// Drops `database` if it is there (a scratch database `estate test` made, a removed
    /// tenant's), ending the connections still on it.
    pub(crate) async fn drop_database(&self, database: &str) -> Result<()> {
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(database)
        );
        let label = format!("dropping database {database}");
        self.run_one(&label, &self.default_database(), sql).await
    }

    /// Drops `schema` of `database` with everything in it, if it is there (a tenant removed
    /// with `--drop-database` in the schema layout).
    pub(crate) async fn drop_schema(&self, database: &str, schema: &str) -> Result<()> {
        if !super::exists(self, database, None).await? {
            return Ok(());
        }
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema));
        let label = format!("dropping schema {schema} of database {database}");
        self.run_one(&label, database, sql).await
    }

    /// Runs one statement built from quoted identifiers on its own connection to `database`.
    async fn run_one(&self, label: &str, database: &str, sql: String) -> Result<()> {
        let mut conn = self.connect(label, database).await?;
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .map_err(|e| self.fail(label, e));
        let _ = conn.close().await;
        done.map(drop)
    }

    /// Cancels the statements this process has under way on the server; how many.
    pub(crate) async fn cancel_statements(&self) -> Result<u64> {
        let label = "cancelling statements";
        let mut conn = self.connect(label, &self.default_database()).await?;
        let application = self.options.get_application_name().unwrap_or_default();
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid() AND state <> 'idle'",
        )
        .bind(application)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| self.fail(label, e))?;
        let _ = conn.close().await;
        Ok(n as u64)
    }

    /// The databases on this server, templates left out: where tenant databases the registry
    /// does not name are looked for.
    pub async fn databases(&self) -> Result<Vec<String>> {
        let label = "the list of databases";
        let mut conn = self.connect(label, &self.default_database()).await?;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT datname::text FROM pg_database WHERE NOT datistemplate ORDER BY datname",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.fail(label, e))?;
        let _ = conn.close().await;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The schemas of `database` on this server, the system's and `public` left out.
    pub async fn schemas(&self, database: &str) -> Result<Vec<String>> {
        let label = format!("the schemas of database {database}");
        let mut conn = self.connect(&label, database).await?;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT nspname::text FROM pg_namespace
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')
             ORDER BY nspname",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.fail(&label, e))?;
        let _ = conn.close().await;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
