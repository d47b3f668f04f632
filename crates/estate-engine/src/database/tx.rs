//! A transaction on one database ([`Tx`]): the scripts a step runs in it, each migration's
//! savepoint, and its end.

use crate::error::{Error, Result};

#[doc(hidden)]
pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Sets the savepoint a migration rolls back to when it fails.
pub const SET_SAVEPOINT: &str = "SAVEPOINT estate_migration";

/// Ends a migration's savepoint and sets the next one's (the last is ended by the commit).
pub const RENEW_SAVEPOINT: &str = "RELEASE SAVEPOINT estate_migration; SAVEPOINT estate_migration";

/// A transaction on one [`Database`](super::Database). Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pub(super) label: String,
    #[doc(hidden)]
    pub inner: TxInner,
}

impl Tx {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs a script of one or more statements (a migration file) as it is.
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        crate::on_tx!(self, conn => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
        })
    }

    /// Runs a migration's script inside a savepoint of its own, so a failing one is undone
    /// alone and the step's earlier migrations commit with one commit. The savepoint is the
    /// one the transaction holds (set with the read of its ledger, or renewed after the
    /// previous migration); `before` runs first in the script's round trip, and `after` (the
    /// ledger row, on a server) follows the script there, and then the savepoint is renewed
    /// for the next migration there too: on a server, round trips and not SQL are what a
    /// fleet of small schemas spends its time on. Without `after`, the caller writes its row
    /// and then calls [`Tx::renew_savepoint`].
    ///
    /// The savepoint a migration rolls back to is set before its round trip, never in it:
    /// PostgreSQL parses a whole round trip before running any of it, and a syntax error in
    /// a script leaves a savepoint set in the same message unset, so a rollback would go back
    /// to the previous migration's and undo it.
    pub async fn execute_in_savepoint(
        &mut self,
        before: &[&str],
        sql: &str,
        after: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let mut script = String::with_capacity(sql.len() + 128);
        for statement in before {
            script.push_str(statement);
            script.push_str(";\n");
        }
        script.push_str(sql);
        if let Some(after) = after {
            // On a line of its own: the script may end in a comment or without a `;`.
            script.push_str("\n;\n");
            script.push_str(after);
            script.push_str(";\n");
            script.push_str(RENEW_SAVEPOINT);
        }
        self.execute_script(&script).await
    }

    /// Runs a script of several statements in one round trip and returns, in order, the
    /// integer of every row it yields whose first column is named `column` (the rows of the
    /// script's own statements are left out). Errs only when the server does.
    pub async fn execute_collecting(
        &mut self,
        sql: &str,
        column: &str,
    ) -> Result<Vec<i64>, sqlx::Error> {
        use sqlx::{Column, Row};
        crate::on_tx!(self, conn => {
            let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_all(conn).await?;
            // A row that does not decode is left out, never an error: the server has run
            // the whole script by then, and an error here would have the caller undo and
            // run it again.
            Ok(rows
                .iter()
                .filter(|r| r.columns().first().is_some_and(|c| c.name() == column))
                .filter_map(|r| r.try_get::<i64, _>(0).ok())
                .collect())
        })
    }

    /// Ends the savepoint of the migration that just succeeded and sets the next one's.
    pub async fn renew_savepoint(&mut self) -> Result<()> {
        self.control(RENEW_SAVEPOINT).await
    }

    /// Undoes everything since the savepoint of [`Tx::execute_in_savepoint`] (and leaves a
    /// failed PostgreSQL transaction usable again).
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.control("ROLLBACK TO SAVEPOINT estate_migration; RELEASE SAVEPOINT estate_migration")
            .await
    }

    /// Undoes everything since the savepoint, which stays set for what runs next.
    pub async fn rollback_to_savepoint_keeping_it(&mut self) -> Result<()> {
        self.control("ROLLBACK TO SAVEPOINT estate_migration").await
    }

    async fn control(&mut self, sql: &'static str) -> Result<()> {
        let label = self.label.clone();
        crate::on_tx!(self, conn => {
            sqlx::raw_sql(sql)
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(|e| Error::db(label, e))
        })
    }

    pub async fn commit(self) -> Result<()> {
        let label = self.label;
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await.map_err(|e| Error::db(label, e)),
            TxInner::Postgres(tx) => tx.commit().await.map_err(|e| Error::db(label, e)),
        }
    }

    /// Ends the transaction, undoing it (and releasing its locks) now rather than at the
    /// connection's next use.
    pub async fn rollback(self) -> Result<()> {
        let label = self.label;
        match self.inner {
            TxInner::Sqlite(tx) => tx.rollback().await.map_err(|e| Error::db(label, e)),
            TxInner::Postgres(tx) => tx.rollback().await.map_err(|e| Error::db(label, e)),
        }
    }
}
