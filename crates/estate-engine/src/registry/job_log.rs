//! `estate_job_events`: every job's log, line by line, so that any process can read, replay
//! and follow the log of any job (this console's, another's, the CLI's, a killed one's). The
//! lines of jobs that ended longer ago than the config's `job_log_days` are pruned when a job
//! starts.

use super::Registry;
use crate::error::{Error, Result};

/// How a log line reads: its symbol and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    Info,
    Ok,
    Failed,
    Skipped,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Info => "info",
            LineKind::Ok => "ok",
            LineKind::Failed => "failed",
            LineKind::Skipped => "skipped",
        }
    }

    /// A kind read back from the registry; one this estate does not know reads as info.
    fn parse(s: &str) -> LineKind {
        match s {
            "ok" => LineKind::Ok,
            "failed" => LineKind::Failed,
            "skipped" => LineKind::Skipped,
            _ => LineKind::Info,
        }
    }
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// RFC 3339, UTC (`clock::now`).
    pub at: String,
    /// The tenant the line is about; `None` for the landlord and the job itself.
    pub tenant: Option<String>,
    pub kind: LineKind,
    pub text: String,
}

impl LogLine {
    /// A line written now.
    pub fn now(tenant: Option<&String>, kind: LineKind, text: String) -> LogLine {
        LogLine {
            at: crate::clock::now(),
            tenant: tenant.cloned(),
            kind,
            text,
        }
    }

    /// `HH:MM:SS` of its time, as a log pane shows it.
    pub fn clock(&self) -> &str {
        self.at.get(11..19).unwrap_or("")
    }
}

/// A line as the registry holds it, with its place in the job's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedLine {
    /// 1 for the job's first line; a follower asks for the lines after the last it read.
    pub seq: i64,
    #[serde(flatten)]
    pub line: LogLine,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: String,
    tenant: Option<String>,
    kind: String,
    text: String,
}

/// Rows written per statement: well under both engines' limit on bound parameters.
const ROWS_PER_INSERT: usize = 500;

impl Registry {
    /// Appends `lines` to job `job_id`'s log, numbered from `first_seq`, inside a transaction
    /// of the caller's (the recorder's batch).
    pub(super) async fn append_log(
        &self,
        tx: &mut crate::database::Tx,
        job_id: &str,
        first_seq: i64,
        lines: &[LogLine],
    ) -> Result<()> {
        if let crate::database::TxInner::Postgres(pg) = &mut tx.inner {
            return super::unnest::append_log(pg, job_id, first_seq, lines)
                .await
                .map_err(|e| self.err(e));
        }
        for (n, chunk) in lines.chunks(ROWS_PER_INSERT).enumerate() {
            let base = first_seq + (n * ROWS_PER_INSERT) as i64;
            crate::on_tx!(tx, conn => {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO estate_job_events (job_id, seq, at, tenant, kind, text) ",
                );
                insert.push_values(chunk.iter().enumerate(), |mut row, (i, line)| {
                    row.push_bind(job_id)
                        .push_bind(base + i as i64)
                        .push_bind(&line.at)
                        .push_bind(&line.tenant)
                        .push_bind(line.kind.as_str())
                        .push_bind(&line.text);
                });
                insert.build().execute(&mut *conn).await.map_err(|e| self.err(e))?;
            });
        }
        Ok(())
    }

    /// Job `job_id`'s log lines after `after` (0: from the start), at most `limit`, in order;
    /// for `tenant`, its lines only.
    pub async fn job_log(
        &self,
        job_id: &str,
        after: i64,
        tenant: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LoggedLine>> {
        let db = &self.db;
        let rows: Vec<Row> = crate::on_pool!(db, pool => {
            sqlx::query_as(
                "SELECT seq, at, tenant, kind, text FROM estate_job_events
                 WHERE job_id = $1 AND seq > $2 AND (CAST($3 AS TEXT) IS NULL OR tenant = $3)
                 ORDER BY seq LIMIT $4",
            )
            .bind(job_id)
            .bind(after)
            .bind(tenant)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?
        });
        Ok(rows
            .into_iter()
            .map(|r| LoggedLine {
                seq: r.seq,
                line: LogLine {
                    at: r.at,
                    tenant: r.tenant,
                    kind: LineKind::parse(&r.kind),
                    text: r.text,
                },
            })
            .collect())
    }

    /// Removes the log lines and the tenant lists of jobs that ended before `before` (RFC
    /// 3339). Their history rows stay: those are the record; the log is what a job said while
    /// it ran.
    pub async fn prune_job_logs(&self, before: &str) -> Result<u64> {
        // The lines last: the count said is theirs.
        const PRUNE: [&str; 2] = [
            "DELETE FROM estate_job_tenants WHERE job_id IN
               (SELECT id FROM estate_jobs WHERE finished_at IS NOT NULL AND finished_at < $1)",
            "DELETE FROM estate_job_events WHERE job_id IN
               (SELECT id FROM estate_jobs WHERE finished_at IS NOT NULL AND finished_at < $1)",
        ];
        let db = &self.db;
        let mut done = 0;
        for sql in PRUNE {
            done = crate::on_pool!(db, pool => {
                sqlx::query(sql)
                    .bind(before)
                    .execute(pool)
                    .await
                    .map_err(|e| self.err(e))?
                    .rows_affected()
            });
        }
        Ok(done)
    }
}

/// The error for a job id no row names.
pub(super) fn no_such_job(id: &str) -> Error {
    Error::refused(
        format!("no job {id} in the registry"),
        "`estate jobs` lists the jobs and their ids",
    )
}
