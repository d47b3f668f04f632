//! A migrator that is a program (`[migrator] command` in context.toml), driven by the
//! migrator protocol (docs/MIGRATOR-PROTOCOL.md): `status`, `up` and `down`, the action last,
//! the database named in the environment.
//!
//! The program's own ledger is the truth for its context. estate knows its migrations only by
//! asking (`status`), keeps the last answer per scope and engine for plans, and mirrors what it
//! says is applied into `estate_ledger` after every call, whatever the call's exit: a program
//! that stopped halfway leaves the tenant at the version it reached, and the next run goes on
//! from there. The caller holds estate's lock on the database around every call (a job's lock
//! on PostgreSQL is a session's for such a context: see [`ModuleMigrator::keeps_own_ledger`]).

mod process;
mod protocol;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub use protocol::PROTOCOL_VERSION;
use protocol::ProgramStatus;

use super::{
    Ledger, LedgerEntry, MigrationInfo, MigrationRun, ModuleMigrator, RunContext, RunDirection,
    ScopeStatus, Target,
};
use crate::catalog::{Context, MigratorCommand, Scope, resolve_program};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::sql::Engine;
use crate::sync::lock;

/// A context's program migrator.
pub struct CommandMigrator {
    context: String,
    dir: PathBuf,
    command: MigratorCommand,
    /// Environment variables passed on to the program by name (the config's `pass_env`).
    pass_env: Vec<String>,
    /// What the program said it has, per scope and engine, at its last `status`.
    known: Mutex<BTreeMap<(Scope, Engine), Vec<MigrationInfo>>>,
}

impl CommandMigrator {
    /// The migrator of `context`, whose manifest names `command`.
    pub fn new(context: &Context, command: &MigratorCommand, pass_env: &[String]) -> Self {
        CommandMigrator {
            context: context.name().to_string(),
            dir: context.dir.clone(),
            command: command.clone(),
            pass_env: pass_env.to_vec(),
            known: Mutex::default(),
        }
    }

    /// How messages name the program: its command line.
    fn program(&self) -> String {
        self.command.argv.join(" ")
    }

    /// Runs `action` on `db`'s `scope`, each stderr line handed to `run` (when there is one).
    async fn call(
        &self,
        action: &'static str,
        scope: Scope,
        db: &Database,
        target: &str,
        run: Option<&RunContext>,
    ) -> Result<process::Ended> {
        let program = self.command.argv.first().map(String::as_str).unwrap_or("");
        let resolved = resolve_program(&self.dir, program).ok_or_else(|| {
            Error::Migrator(format!(
                "{}'s migrator program {program:?} is not on PATH",
                self.context
            ))
        })?;
        let tenant = db.label().strip_prefix("tenant ").unwrap_or("");
        let mut env: Vec<(String, String)> = vec![
            ("ESTATE_PROTOCOL".into(), PROTOCOL_VERSION.into()),
            ("ESTATE_CONTEXT".into(), self.context.clone()),
            ("ESTATE_SCOPE".into(), scope.as_str().into()),
            ("ESTATE_TENANT".into(), tenant.into()),
            ("ESTATE_TARGET".into(), target.into()),
        ];
        env.extend(
            db.address()
                .program_env()?
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        let say = |line: &str| {
            tracing::info!(context = %self.context, database = %db.label(), action, "{line}");
            if let Some(run) = run {
                run.say(line);
            }
        };
        tracing::debug!(context = %self.context, database = %db.label(), action, target, "migrator program started");
        process::run(
            process::Call {
                program: resolved,
                args: &self.command.argv[1..],
                dir: &self.dir,
                action,
                env,
                pass_env: &self.pass_env,
                timeout: self.command.timeout,
            },
            &say,
        )
        .await
    }

    /// Asks the program what `db`'s `scope` has, and keeps its list of migrations for plans.
    async fn ask(
        &self,
        scope: Scope,
        db: &Database,
        run: Option<&RunContext>,
    ) -> Result<ProgramStatus> {
        if !self.command.scopes.contains(&scope) {
            // Not the program's scope: it is not asked, and has nothing there.
            return Ok(ProgramStatus::default());
        }
        let ended = self.call("status", scope, db, "latest", run).await?;
        let failed = |what: String| {
            Error::Migrator(format!(
                "the {} migrator `{} status` on {} {what}{}",
                self.context,
                self.program(),
                db.label(),
                ended.tail_text()
            ))
        };
        if !ended.succeeded() {
            return Err(failed(ended.how(self.command.timeout)));
        }
        let status = protocol::parse(&ended.stdout, &self.program()).map_err(failed)?;
        lock(&self.known).insert((scope, db.engine()), status.known());
        Ok(status)
    }

    /// Makes estate's ledger say what the program says is applied: rows added for what it
    /// applied, removed for what it reverted, in one transaction. Returns the versions added
    /// and those removed.
    async fn mirror(
        &self,
        scope: Scope,
        db: &Database,
        status: &ProgramStatus,
        applied_by: &str,
        took: Duration,
    ) -> Result<(Vec<i64>, Vec<i64>)> {
        let err = |e| Error::db(db.label(), e);
        let mut tx = db.begin().await?;
        let (_, rows) = Ledger::read(&mut tx).await.map_err(err)?;
        let mine: Vec<&LedgerEntry> = rows
            .iter()
            .filter(|e| e.context == self.context && e.scope == scope.as_str())
            .collect();
        let added: Vec<&MigrationInfo> = status
            .migrations
            .iter()
            .filter(|(m, applied)| *applied && !mine.iter().any(|e| e.version == m.version))
            .map(|(m, _)| m)
            .collect();
        let removed: Vec<i64> = mine
            .iter()
            .map(|e| e.version)
            .filter(|v| !status.is_applied(*v))
            .collect();
        if added.is_empty() && removed.is_empty() {
            tx.rollback().await?;
            return Ok((Vec::new(), Vec::new()));
        }
        let batch = rows.iter().map(|e| e.batch).max().unwrap_or(0) + 1;
        let each = took.as_millis() as i64 / added.len().max(1) as i64;
        Ledger::create(&mut tx).await.map_err(err)?;
        for m in &added {
            let entry = LedgerEntry {
                context: self.context.clone(),
                scope: scope.as_str().to_string(),
                version: m.version,
                description: m.description.clone(),
                checksum: m.checksum.clone(),
                batch,
                applied_at: crate::clock::now(),
                execution_ms: each,
                applied_by: applied_by.to_string(),
            };
            Ledger::insert(&mut tx, &entry).await.map_err(err)?;
        }
        for v in &removed {
            Ledger::erase(&mut tx, &self.context, scope, *v)
                .await
                .map_err(err)?;
        }
        tx.commit().await?;
        Ok((added.iter().map(|m| m.version).collect(), removed))
    }

    /// `up` or `down` to `target`, then `status` again whatever the exit, mirrored; each
    /// migration the program applied (or reverted) reported as it would be by a runner of
    /// estate's own.
    async fn act(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
        down: bool,
    ) -> Result<Vec<MigrationRun>> {
        let before = self.ask(scope, db, Some(run)).await?;
        // What an earlier run left unmirrored (a kill between its call and its status).
        self.mirror(scope, db, &before, &run.applied_by, Duration::ZERO)
            .await?;
        let to_do = before.migrations.iter().any(|(m, applied)| {
            if down {
                *applied && m.version > target.keeps()
            } else {
                !*applied && target.includes(m.version)
            }
        });
        if !to_do {
            return Ok(Vec::new());
        }
        let (action, target_text) = match (down, target) {
            (true, t) => ("down", t.keeps().to_string()),
            (false, Target::Latest) => ("up", "latest".to_string()),
            (false, Target::Version(v)) => ("up", v.to_string()),
        };
        let ended = self
            .call(action, scope, db, &target_text, Some(run))
            .await?;
        let after = self.ask(scope, db, Some(run)).await;
        let after = match after {
            Ok(after) => after,
            Err(e) if ended.succeeded() => return Err(e),
            Err(e) => {
                return Err(Error::Migrator(format!(
                    "the {} migrator `{} {action}` on {} {}{}\nthen: {e}",
                    self.context,
                    self.program(),
                    db.label(),
                    ended.how(self.command.timeout),
                    ended.tail_text()
                )));
            }
        };
        let (added, removed) = self
            .mirror(scope, db, &after, &run.applied_by, ended.took)
            .await?;
        let changed = if down { removed } else { added };
        let runs = self.report(scope, db, &before, &after, changed, ended.took, run, down);
        let reached = after.applied().last().copied().unwrap_or(0);
        if !ended.succeeded() {
            return Err(Error::Migrator(format!(
                "the {} migrator `{} {action}` on {} {}; it stands at version {reached}{}",
                self.context,
                self.program(),
                db.label(),
                ended.how(self.command.timeout),
                ended.tail_text()
            )));
        }
        let short = after.migrations.iter().find(|(m, applied)| {
            if down {
                *applied && m.version > target.keeps()
            } else {
                !*applied && target.includes(m.version)
            }
        });
        if let Some((m, _)) = short {
            return Err(Error::Migrator(format!(
                "the {} migrator `{} {action}` on {} exited 0, but its status says migration {} ({}) is still {}; it stands at version {reached}",
                self.context,
                self.program(),
                db.label(),
                m.version,
                m.description,
                if down { "applied" } else { "pending" }
            )));
        }
        Ok(runs)
    }

    /// The runs of the `changed` versions, newest first going down, each reported to `run`.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        scope: Scope,
        db: &Database,
        before: &ProgramStatus,
        after: &ProgramStatus,
        mut changed: Vec<i64>,
        took: Duration,
        run: &RunContext,
        down: bool,
    ) -> Vec<MigrationRun> {
        changed.sort_unstable();
        if down {
            changed.reverse();
        }
        let each = took.as_millis() as u64 / changed.len().max(1) as u64;
        let description = |v: i64| {
            after
                .migrations
                .iter()
                .chain(&before.migrations)
                .find(|(m, _)| m.version == v)
                .map(|(m, _)| m.description.clone())
                .unwrap_or_default()
        };
        changed
            .into_iter()
            .map(|version| {
                let r = MigrationRun {
                    context: self.context.clone(),
                    scope,
                    database: db.label().to_string(),
                    version,
                    description: description(version),
                    direction: if down {
                        RunDirection::Down
                    } else {
                        RunDirection::Up
                    },
                    millis: each,
                };
                run.report(&r);
                r
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl ModuleMigrator for CommandMigrator {
    fn context(&self) -> &str {
        &self.context
    }

    /// What the program said at its last `status` on this engine; empty before it was asked.
    fn migrations(&self, scope: Scope, engine: Engine) -> Vec<MigrationInfo> {
        lock(&self.known)
            .get(&(scope, engine))
            .cloned()
            .unwrap_or_default()
    }

    async fn status(&self, scope: Scope, db: &Database) -> Result<ScopeStatus> {
        let status = self.ask(scope, db, None).await?;
        let recorded = Ledger::entries(db, &self.context, scope).await?;
        let applied = status
            .migrations
            .iter()
            .filter(|(_, applied)| *applied)
            .map(|(m, _)| {
                recorded
                    .iter()
                    .find(|e| e.version == m.version)
                    .cloned()
                    .unwrap_or_else(|| LedgerEntry {
                        context: self.context.clone(),
                        scope: scope.as_str().to_string(),
                        version: m.version,
                        description: m.description.clone(),
                        checksum: m.checksum.clone(),
                        batch: 0,
                        applied_at: String::new(),
                        execution_ms: 0,
                        applied_by: self.program(),
                    })
            })
            .collect();
        Ok(ScopeStatus {
            applied,
            pending: status
                .migrations
                .iter()
                .filter(|(_, applied)| !*applied)
                .map(|(m, _)| m.clone())
                .collect(),
            ..ScopeStatus::default()
        })
    }

    async fn migrate(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        self.act(scope, db, target, run, false).await
    }

    async fn rollback(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        self.act(scope, db, target, run, true).await
    }

    fn keeps_own_ledger(&self) -> bool {
        true
    }

    /// The scopes its manifest names: only the program knows what it has there.
    fn has_scope(&self, scope: Scope) -> bool {
        self.command.scopes.contains(&scope)
    }
}
