//! The record of a migration that runs outside a transaction (`-- no-transaction`) and has not
//! finished: a row in `estate_unfinished`, in the database it runs on, written before its
//! first statement, advanced after each, and removed in the same transaction that writes its
//! ledger change. A row still there means the migration stopped partway (a statement failed,
//! or estate was killed): the database is neither migrated nor not, and estate refuses to
//! touch that context's scope there until an operator has looked and said which it is
//! (`estate resolve`). Nothing is hidden and nothing is guessed.

use serde::Serialize;

use super::ledger::{Present, all_rows, delete_row};
use crate::catalog::Scope;
use crate::database::{Database, Session, Tx};
use crate::error::Result;

pub const UNFINISHED_TABLE: &str = "estate_unfinished";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS estate_unfinished (
    context     VARCHAR(63) NOT NULL,
    scope       VARCHAR(8)  NOT NULL,
    version     BIGINT      NOT NULL,
    description TEXT        NOT NULL,
    direction   VARCHAR(4)  NOT NULL,
    statements  BIGINT      NOT NULL,
    done        BIGINT      NOT NULL,
    started_at  VARCHAR(40) NOT NULL,
    started_by  TEXT        NOT NULL,
    error       TEXT,
    PRIMARY KEY (context, scope, version)
)";

const COLUMNS: &str = "context, scope, version, description, direction, statements, done, started_at, started_by, error";

/// A migration under way outside a transaction, or stopped partway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Unfinished {
    pub context: String,
    pub scope: String,
    pub version: i64,
    pub description: String,
    /// `up` (applying) or `down` (reverting).
    pub direction: String,
    pub statements: i64,
    /// Statements known to have committed. One more may have, when estate was killed
    /// between a statement and this count.
    pub done: i64,
    pub started_at: String,
    pub started_by: String,
    /// The failing statement's error; none when estate stopped without seeing one (killed).
    pub error: Option<String>,
}

impl Unfinished {
    /// Every unfinished migration of the database, read inside `tx` (nothing to read unless
    /// `present` says the table is there).
    pub async fn read(
        tx: &mut Tx,
        present: Present,
    ) -> std::result::Result<Vec<Unfinished>, sqlx::Error> {
        if !present.unfinished {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT {COLUMNS} FROM estate_unfinished ORDER BY context, scope, version");
        crate::on_tx!(tx, conn => {
            sqlx::query_as::<_, Unfinished>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await
        })
    }

    /// Every unfinished migration of the database, read outside any transaction (by
    /// `verify`, which never writes).
    pub async fn all(db: &Database) -> Result<Vec<Unfinished>> {
        all_rows(db, UNFINISHED_TABLE, COLUMNS).await
    }

    /// Records that the migration starts (the table is made the first time).
    pub async fn start(&self, tx: &mut Tx) -> std::result::Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => {
            sqlx::query(CREATE).execute(&mut *conn).await?;
            sqlx::query(
                "INSERT INTO estate_unfinished
                 (context, scope, version, description, direction, statements, done, started_at, started_by, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&self.context)
            .bind(&self.scope)
            .bind(self.version)
            .bind(&self.description)
            .bind(&self.direction)
            .bind(self.statements)
            .bind(self.done)
            .bind(&self.started_at)
            .bind(&self.started_by)
            .bind(&self.error)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })
    }

    /// Records how far it got, on the session that runs it (so in autocommit, right after
    /// the statement it counts).
    pub async fn progress(
        &self,
        session: &mut Session,
        done: i64,
        error: Option<&str>,
    ) -> std::result::Result<(), sqlx::Error> {
        crate::on_session!(session, conn => {
            sqlx::query(
                "UPDATE estate_unfinished SET done = $1, error = $2
                 WHERE context = $3 AND scope = $4 AND version = $5",
            )
            .bind(done)
            .bind(error)
            .bind(&self.context)
            .bind(&self.scope)
            .bind(self.version)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })
    }

    /// Forgets it, inside the transaction that records the outcome in the ledger.
    pub async fn forget(
        tx: &mut Tx,
        context: &str,
        scope: Scope,
        version: i64,
    ) -> std::result::Result<(), sqlx::Error> {
        delete_row(tx, UNFINISHED_TABLE, context, scope, version).await
    }

    /// What it is and how far it got, for a refusal, a finding or a failed job.
    pub fn describe(&self) -> String {
        let verb = if self.direction == "down" {
            "reverting"
        } else {
            "applying"
        };
        let progress = match &self.error {
            None if self.done >= self.statements => format!(
                "all {} statement(s) committed, and it stopped before its ledger row was written (estate was stopped or killed)",
                self.statements
            ),
            Some(e) => format!(
                "{} of {} statement(s) committed, then statement {} failed: {e}",
                self.done,
                self.statements,
                self.done + 1
            ),
            None => format!(
                "{} of {} statement(s) committed, and it stopped without an error (estate was stopped or killed; statement {} may have committed too)",
                self.done,
                self.statements,
                self.done + 1
            ),
        };
        format!(
            "{} {} migration {:04} ({}) ran outside a transaction and did not finish {verb}: {progress}; started {} by {}",
            self.context,
            self.scope,
            self.version,
            self.description,
            self.started_at,
            self.started_by
        )
    }

    /// The fix: look, put the database in one state or the other, then say which (with
    /// `estate resolve` on `db`).
    pub fn fix(&self, db: &Database) -> String {
        // How `estate resolve` names the database: `--landlord` or `--tenant SLUG`.
        let target = match db.label().strip_prefix("tenant ") {
            Some(slug) => format!("--tenant {slug}"),
            None => "--landlord".to_string(),
        };
        if self.error.is_none() && self.done >= self.statements {
            return format!(
                "if the job that started it is still running (`estate history`, the console's Jobs view), wait for it; else its work is all there: `estate resolve {} {target} --completed`",
                self.context
            );
        }
        format!(
            "if the job that started it is still running (`estate history`, the console's Jobs view), wait for it; else look at the database: finish the migration's remaining statements by hand, or undo the ones that ran (on PostgreSQL, a CREATE INDEX CONCURRENTLY that failed leaves an INVALID index: drop it); if the file was wrong, correct it first (what --completed records is the file as it is then); then record which with `estate resolve {} {target} --completed` or `--undone`",
            self.context
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::TABLES_READ_AT_OPEN;
    use crate::migrator::ledger::LEDGER_TABLE;

    // A table missing from that list would cost each schema tenant a round trip; one renamed
    // here but not there would be answered from a lookup of a name that no longer exists.
    #[test]
    fn a_schema_tenant_opening_reads_the_ledger_and_the_unfinished_migrations() {
        assert_eq!(TABLES_READ_AT_OPEN, [LEDGER_TABLE, UNFINISHED_TABLE]);
    }
}
