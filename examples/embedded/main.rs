//! estate embedded in an application's own binary, with a migrator written in Rust.
//!
//! The `audit` context (examples/embedded/contexts/audit) has no migration files: its
//! migrations are this file's [`AuditMigrator`], and its context.toml says so
//! (`[migrator] binary = "embedded"`), so the plain `estate` binary names this one instead of
//! guessing. Everything else is estate's: `App::new().migrator(..).run()` gives this binary
//! every command and the console, the sample contexts' SQL migrators included.
//!
//! ```sh
//! cargo build --release --example embedded
//! cd examples/embedded
//! ../../target/release/examples/embedded tenants add acme
//! ../../target/release/examples/embedded install audit --tenant acme --yes
//! ../../target/release/examples/embedded      # the console
//! ```
//!
//! The migrator keeps estate's contract: each run is one transaction in which the ledger is
//! read (under the job's lock), the migrations are applied and their ledger rows written, so a
//! failure or a kill leaves a tenant with all of a step or none of it; a changed migration is
//! refused (its checksum is in the ledger); a cancel stops between two migrations.

use std::process::ExitCode;
use std::time::Instant;

use estate::engine::catalog::checksum;
use estate::engine::database::{Database, Tx};
use estate::engine::migrator::{Ledger, LedgerEntry, RunDirection};
use estate::engine::{
    Engine, Error, MigrationInfo, MigrationRun, ModuleMigrator, Result, RunContext, Scope,
    ScopeStatus, Target,
};

fn main() -> ExitCode {
    estate::App::new().migrator("audit", || AuditMigrator).run()
}

const CONTEXT: &str = "audit";

/// One migration of `audit`: its SQL per engine, both ways.
struct Migration {
    version: i64,
    description: &'static str,
    up: fn(Engine) -> &'static str,
    down: &'static str,
}

/// `audit`'s migrations, oldest first; all in the tenant scope (the landlord has no audit log).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "create audit events",
        up: |engine| match engine {
            Engine::Sqlite => {
                "CREATE TABLE audit_events (
                    id     INTEGER PRIMARY KEY,
                    actor  TEXT NOT NULL,
                    action TEXT NOT NULL,
                    at     TEXT NOT NULL
                )"
            }
            Engine::Postgres => {
                "CREATE TABLE audit_events (
                    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    actor  TEXT NOT NULL,
                    action TEXT NOT NULL,
                    at     TIMESTAMPTZ NOT NULL
                )"
            }
        },
        down: "DROP TABLE audit_events",
    },
    Migration {
        version: 2,
        description: "index events by actor",
        up: |_| "CREATE INDEX audit_events_actor ON audit_events (actor, at)",
        down: "DROP INDEX audit_events_actor",
    },
];

/// The `audit` context's migrator.
struct AuditMigrator;

impl AuditMigrator {
    fn known(scope: Scope, engine: Engine) -> Vec<MigrationInfo> {
        if scope == Scope::Landlord {
            return Vec::new();
        }
        MIGRATIONS
            .iter()
            .map(|m| {
                let up = (m.up)(engine);
                MigrationInfo {
                    version: m.version,
                    description: m.description.to_string(),
                    source: format!("examples/embedded/main.rs#{}", m.version),
                    down_source: Some(format!("examples/embedded/main.rs#{}", m.version)),
                    checksum: checksum(up.as_bytes()),
                    up_sql: Some(up.to_string()),
                    down_sql: Some(m.down.to_string()),
                    up_outside_transaction: false,
                    down_outside_transaction: false,
                }
            })
            .collect()
    }

    fn status_of(scope: Scope, engine: Engine, ledger: &[LedgerEntry]) -> ScopeStatus {
        let applied = ledger
            .iter()
            .filter(|e| e.context == CONTEXT && e.scope == scope.as_str())
            .cloned()
            .collect();
        ScopeStatus::compare(&Self::known(scope, engine), applied)
    }

    /// Begins the run's transaction and reads the ledger inside it, refusing a migration that
    /// changed (or vanished) since it was applied. Returns the transaction, the status and the
    /// batch number for what this run applies.
    async fn begin(scope: Scope, db: &Database) -> Result<(Tx, ScopeStatus, i64)> {
        let mut tx = db.begin().await?;
        let (_, ledger) = Ledger::read(&mut tx)
            .await
            .map_err(|e| Error::db(db.label(), e))?;
        let status = Self::status_of(scope, db.engine(), &ledger);
        status.refuse_unclean(db.label(), CONTEXT, scope, None)?;
        let batch = ledger.iter().map(|e| e.batch).max().unwrap_or(0) + 1;
        Ok((tx, status, batch))
    }

    /// Runs one migration's SQL inside `tx`; a failure names the migration and the database.
    async fn execute(tx: &mut Tx, db: &Database, info: &MigrationInfo, sql: &str) -> Result<()> {
        tx.execute_script(sql)
            .await
            .map_err(|e| Error::MigrationFailed {
                file: info.source.clone(),
                database: db.label().to_string(),
                message: e.to_string(),
            })
    }

    fn record(
        scope: Scope,
        db: &Database,
        info: &MigrationInfo,
        direction: RunDirection,
        started: Instant,
    ) -> MigrationRun {
        MigrationRun {
            context: CONTEXT.to_string(),
            scope,
            database: db.label().to_string(),
            version: info.version,
            description: info.description.clone(),
            direction,
            millis: started.elapsed().as_millis() as u64,
        }
    }

    /// Commits what ran, then tells the job of each migration: a listener hears only of
    /// migrations that are committed.
    async fn finish(
        tx: Tx,
        done: Vec<MigrationRun>,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        if done.is_empty() {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        for r in &done {
            run.report(r);
        }
        Ok(done)
    }
}

#[async_trait::async_trait]
impl ModuleMigrator for AuditMigrator {
    fn context(&self) -> &str {
        CONTEXT
    }

    fn migrations(&self, scope: Scope, engine: Engine) -> Vec<MigrationInfo> {
        Self::known(scope, engine)
    }

    async fn status(&self, scope: Scope, db: &Database) -> Result<ScopeStatus> {
        Ok(Self::status_of(scope, db.engine(), &Ledger::all(db).await?))
    }

    fn status_from(
        &self,
        scope: Scope,
        engine: Engine,
        ledger: &[LedgerEntry],
    ) -> Option<ScopeStatus> {
        Some(Self::status_of(scope, engine, ledger))
    }

    async fn migrate(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let (mut tx, status, batch) = Self::begin(scope, db).await?;
        let mut done = Vec::new();
        for info in status.pending.iter().filter(|m| target.includes(m.version)) {
            if let Err(stop) = run.stop_before(
                done.len(),
                &format!("{} ({})", info.version, info.description),
            ) {
                Self::finish(tx, done, run).await?;
                return Err(stop);
            }
            let started = Instant::now();
            let up = info.up_sql.as_deref().unwrap_or_default();
            Self::execute(&mut tx, db, info, up).await?;
            let entry = LedgerEntry::applied(CONTEXT, scope, info, batch, started, run);
            Ledger::record(&mut tx, &entry)
                .await
                .map_err(|e| Error::db(db.label(), e))?;
            done.push(Self::record(scope, db, info, RunDirection::Up, started));
        }
        Self::finish(tx, done, run).await
    }

    async fn rollback(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let (mut tx, status, _) = Self::begin(scope, db).await?;
        let keep = target.keeps();
        let known = Self::known(scope, db.engine());
        let mut done = Vec::new();
        for applied in status.applied.iter().rev().filter(|e| e.version > keep) {
            // begin() refused a migration this binary does not know, so each one is here.
            let Some(info) = known.iter().find(|m| m.version == applied.version) else {
                continue;
            };
            if let Err(stop) = run.stop_before(
                done.len(),
                &format!("{} ({})", info.version, info.description),
            ) {
                Self::finish(tx, done, run).await?;
                return Err(stop);
            }
            let started = Instant::now();
            let down = info.down_sql.as_deref().unwrap_or_default();
            Self::execute(&mut tx, db, info, down).await?;
            Ledger::erase(&mut tx, CONTEXT, scope, info.version)
                .await
                .map_err(|e| Error::db(db.label(), e))?;
            done.push(Self::record(scope, db, info, RunDirection::Down, started));
        }
        Self::finish(tx, done, run).await
    }
}
