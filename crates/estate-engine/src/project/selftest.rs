//! `estate test CONTEXT`: a context's migrations checked on their own, on scratch databases
//! (a temporary SQLite file; a temporary database on a configured PostgreSQL server, dropped
//! after). The contexts it requires are applied first; then each of its migrations runs up,
//! down and up again, and the schema after each down must be the one before its up: the
//! first migration whose down does not undo its up is named, with what it left or took.
//! It drives the context's own migrator, whatever it is (SQL files, blueprints, sqlx or diesel
//! sets, a Rust migrator), and touches no database of the fleet.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Project;
use crate::catalog::Scope;
use crate::database::{Address, Database, Open, Pool};
use crate::error::{Error, Result};
use crate::migrator::{ModuleMigrator, RunContext, Target};
use crate::sql::Engine;

/// One scope of the context on one engine.
#[derive(Debug, Clone, Serialize)]
pub struct SelfTestRun {
    pub scope: Scope,
    pub engine: Engine,
    /// Migrations run up, down and up again.
    pub migrations: usize,
    /// The first migration whose down does not undo its up, and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<Mismatch>,
    /// What stopped the run (a migration that failed), if anything did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    pub version: i64,
    pub source: String,
    /// `index x left behind`, `table t gone`…
    pub differences: Vec<String>,
}

impl SelfTestRun {
    pub fn passed(&self) -> bool {
        self.mismatch.is_none() && self.error.is_none()
    }
}

impl Project {
    /// Tests `context`'s migrations in `scopes` on `engines` (SQLite always can; PostgreSQL
    /// on the config's first server).
    pub async fn test_context(
        &self,
        context: &str,
        scopes: &[Scope],
        engines: &[Engine],
    ) -> Result<Vec<SelfTestRun>> {
        // Scratch databases are made and dropped: writes, if not the fleet's.
        self.ensure_writable(&format!("testing {context} (on scratch databases)"))?;
        self.catalog.require(context)?;
        let migrator = self
            .migrators
            .get(context)
            .cloned()
            .ok_or_else(|| Error::Migrator(format!("no migrator for {context}")))?;
        let required: Vec<String> = self
            .catalog
            .graph
            .closure([context])
            .into_iter()
            .filter(|m| m != context)
            .collect();
        let mut runs = Vec::new();
        for &engine in engines {
            for &scope in scopes {
                // A program's migrations are known once it is asked, on the scratch database.
                let asks = migrator.keeps_own_ledger();
                if !migrator.has_scope(scope)
                    || (!asks && migrator.migrations(scope, engine).is_empty())
                {
                    continue;
                }
                let scratch = self.scratch(context, scope, engine).await?;
                let run = self
                    .test_on(&scratch, &*migrator, &required, scope, engine)
                    .await;
                scratch.close().await;
                self.drop_scratch(scratch.address()).await;
                runs.push(run);
            }
        }
        Ok(runs)
    }

    async fn test_on(
        &self,
        db: &Database,
        migrator: &dyn ModuleMigrator,
        required: &[String],
        scope: Scope,
        engine: Engine,
    ) -> SelfTestRun {
        let asked = match migrator.keeps_own_ledger() {
            true => migrator.status(scope, db).await.map(|_| ()),
            false => Ok(()),
        };
        let known = migrator.migrations(scope, engine);
        let mut run = SelfTestRun {
            scope,
            engine,
            migrations: known.len(),
            mismatch: None,
            error: None,
        };
        let ctx = RunContext::new("estate test");
        for m in required {
            if let Some(r) = self.migrators.get(m)
                && let Err(e) = r.migrate(scope, db, Target::Latest, &ctx).await
            {
                run.error = Some(format!("its requirement {m} could not be applied: {e}"));
                return run;
            }
        }
        if let Err(e) = asked {
            run.error = Some(e.to_string());
            return run;
        }
        // A program makes its own ledger table at its first up and keeps it: one round trip
        // first, so what each down is compared with has it too.
        if let (true, Some(first)) = (migrator.keeps_own_ledger(), known.first()) {
            let warm = async {
                let to = Target::Version(first.version);
                migrator.migrate(scope, db, to, &ctx).await?;
                migrator.rollback(scope, db, Target::ZERO, &ctx).await
            };
            if let Err(e) = warm.await {
                run.error = Some(format!(
                    "migration {} ({}): {e}",
                    first.version, first.source
                ));
                return run;
            }
        }
        let mut previous = 0;
        for m in &known {
            let step = async {
                let before = schema(db).await?;
                migrator
                    .migrate(scope, db, Target::Version(m.version), &ctx)
                    .await?;
                migrator
                    .rollback(scope, db, Target::Version(previous), &ctx)
                    .await?;
                let after = schema(db).await?;
                let found = differences(&before, &after);
                // Up again only over a down that undid the up: what it left would be in the
                // way, and the mismatch is the finding.
                if found.is_empty() {
                    migrator
                        .migrate(scope, db, Target::Version(m.version), &ctx)
                        .await?;
                }
                Ok::<_, Error>(found)
            };
            match step.await {
                Ok(found) if found.is_empty() => {}
                Ok(found) => {
                    run.mismatch = Some(Mismatch {
                        version: m.version,
                        source: m.source.clone(),
                        differences: found,
                    });
                    return run;
                }
                Err(e) => {
                    run.error = Some(format!("migration {} ({}): {e}", m.version, m.source));
                    return run;
                }
            }
            previous = m.version;
        }
        run
    }

    /// An empty database of its own for one run.
    async fn scratch(&self, context: &str, scope: Scope, engine: Engine) -> Result<Database> {
        let name = format!("estate_test_{}_{context}_{scope}", std::process::id());
        let address = match engine {
            Engine::Sqlite => Address::Sqlite {
                path: std::env::temp_dir().join(format!("{name}.db")),
            },
            Engine::Postgres => {
                let server = self.config.servers.first().ok_or_else(|| {
                    Error::refused(
                        "testing on PostgreSQL needs a server, and the config names none",
                        "add [[servers]] to the config, or test with --engine sqlite",
                    )
                })?;
                Address::Postgres {
                    server: server.clone(),
                    database: name,
                    schema: None,
                }
            }
        };
        self.drop_scratch(&address).await;
        Database::open("scratch", &address, Open::CreateIfMissing).await
    }

    async fn drop_scratch(&self, address: &Address) {
        match address {
            Address::Sqlite { path } => {
                let _ = std::fs::remove_file(path);
            }
            Address::Postgres {
                server, database, ..
            } => {
                if let Err(e) = server.drop_database(database).await {
                    tracing::warn!(database, error = %e, "the scratch database could not be dropped");
                }
            }
        }
    }
}

/// The schema of `db` as lines to compare: each table's columns, each index; estate's own
/// tables left out.
async fn schema(db: &Database) -> Result<BTreeSet<String>> {
    let err = |e| Error::db(db.label(), e);
    let rows: Vec<(String,)> = match &db.pool {
        Pool::Sqlite(pool) => sqlx::query_as(
            "SELECT m.type || ' ' || m.name || ': ' || COALESCE(m.sql, '')
             FROM sqlite_master m
             WHERE m.name NOT LIKE 'sqlite_%' AND m.tbl_name NOT LIKE 'estate_%'",
        )
        .fetch_all(pool)
        .await
        .map_err(err)?,
        Pool::Postgres(pool) => sqlx::query_as(
            "SELECT 'table ' || table_name || ' column ' || column_name || ' ' || data_type
                    || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name NOT LIKE 'estate\\_%'
             UNION ALL
             SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes
             WHERE schemaname = current_schema() AND tablename NOT LIKE 'estate\\_%'",
        )
        .fetch_all(pool)
        .await
        .map_err(err)?,
    };
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What the down left that was not there before its up, and what it took that was.
fn differences(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Vec<String> {
    let left = after
        .difference(before)
        .map(|s| format!("left behind: {s}"));
    let taken = before.difference(after).map(|s| format!("gone: {s}"));
    left.chain(taken).collect()
}
