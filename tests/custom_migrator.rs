//! A library user can give a context a hand-written Rust migrator, registered on the project,
//! without touching the registry: the planner, the job runner and the status matrix all reach it
//! through the `ModuleMigrator` contract, and its ledger rows live beside the SQL migrators'.

mod common;
use common::*;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use estate_engine::Project;
use estate_engine::catalog::{Scope, checksum};
use estate_engine::clock::now;
use estate_engine::config::Config;
use estate_engine::database::Database;
use estate_engine::jobs::{JobControl, JobEvent};
use estate_engine::migrator::{
    Ledger, LedgerEntry, MigrationInfo, MigrationRun, ModuleMigrator, RegisteredMigrators,
    RunContext, RunDirection, ScopeStatus, Target,
};
use estate_engine::project::ModuleState;
use estate_engine::sql::Engine;
use estate_engine::tenancy::Slug;
use estate_engine::{Action, TenantSelection};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CREATE_AUDIT_LOG: &str = "CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor);";

const DROP_AUDIT_LOG: &str = "DROP INDEX audit_log_actor;\nDROP TABLE audit_log;";

/// The `audit` context's migrator, written in Rust: nothing in the landlord, one migration in
/// each tenant database. Clones share their record of calls, as every migrator the factory
/// builds for one test does.
#[derive(Clone)]
struct AuditMigrator {
    /// Every migration it ran, to show the runner called this migrator and no other.
    calls: Arc<Mutex<Vec<(Scope, RunDirection, i64)>>>,
}

impl AuditMigrator {
    fn new() -> Self {
        AuditMigrator {
            calls: Arc::default(),
        }
    }

    /// The registration of this migrator (and its clones) for `audit`.
    fn registered(&self) -> RegisteredMigrators {
        let mut registered = RegisteredMigrators::default();
        let me = self.clone();
        registered.register("audit", move || me.clone());
        registered
    }

    fn tenant_migration() -> MigrationInfo {
        MigrationInfo {
            version: 1,
            description: "create audit log".to_string(),
            source: "AuditMigrator::create_audit_log".to_string(),
            down_source: None,
            checksum: checksum(CREATE_AUDIT_LOG.as_bytes()),
            up_sql: Some(CREATE_AUDIT_LOG.to_string()),
            down_sql: Some(DROP_AUDIT_LOG.to_string()),
            up_outside_transaction: false,
            down_outside_transaction: false,
        }
    }

    fn run_record(
        scope: Scope,
        db: &Database,
        direction: RunDirection,
        millis: u64,
    ) -> MigrationRun {
        MigrationRun {
            context: "audit".to_string(),
            scope,
            database: db.label().to_string(),
            version: 1,
            description: "create audit log".to_string(),
            direction,
            millis,
        }
    }

    /// Notes a migration that ran in `direction`, reports it to `run`, and returns its record.
    fn ran(
        &self,
        scope: Scope,
        db: &Database,
        direction: RunDirection,
        millis: u64,
        run: &RunContext,
    ) -> Vec<MigrationRun> {
        self.calls.lock().unwrap().push((scope, direction, 1));
        let record = Self::run_record(scope, db, direction, millis);
        run.report(&record);
        vec![record]
    }
}

#[async_trait::async_trait]
impl ModuleMigrator for AuditMigrator {
    fn context(&self) -> &str {
        "audit"
    }

    fn migrations(&self, scope: Scope, _engine: Engine) -> Vec<MigrationInfo> {
        match scope {
            Scope::Landlord => Vec::new(),
            Scope::Tenant => vec![Self::tenant_migration()],
        }
    }

    async fn status(&self, scope: Scope, db: &Database) -> estate_engine::Result<ScopeStatus> {
        let applied = Ledger::entries(db, "audit", scope).await?;
        Ok(ScopeStatus::compare(
            &self.migrations(scope, db.engine()),
            applied,
        ))
    }

    async fn migrate(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> estate_engine::Result<Vec<MigrationRun>> {
        let wanted = target.includes(1);
        let status = self.status(scope, db).await?;
        if scope == Scope::Landlord || !wanted || status.pending.is_empty() {
            return Ok(Vec::new());
        }
        // Read before the transaction: the pool may hold a single connection.
        let batch = Ledger::next_batch(db).await?;
        let started = Instant::now();
        let mut tx = db.begin().await?;
        tx.execute_script(CREATE_AUDIT_LOG)
            .await
            .map_err(|e| estate_engine::Error::Migrator(format!("audit: {e}")))?;
        let millis = started.elapsed().as_millis() as u64;
        let entry = LedgerEntry {
            context: "audit".to_string(),
            scope: scope.as_str().to_string(),
            version: 1,
            description: "create audit log".to_string(),
            checksum: checksum(CREATE_AUDIT_LOG.as_bytes()),
            batch,
            applied_at: now(),
            execution_ms: millis as i64,
            applied_by: run.applied_by.clone(),
        };
        Ledger::record(&mut tx, &entry)
            .await
            .map_err(|e| estate_engine::Error::db(db.label(), e))?;
        tx.commit().await?;
        Ok(self.ran(scope, db, RunDirection::Up, millis, run))
    }

    async fn rollback(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> estate_engine::Result<Vec<MigrationRun>> {
        let keep = target.keeps();
        let status = self.status(scope, db).await?;
        if scope == Scope::Landlord || keep >= 1 || status.applied.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let mut tx = db.begin().await?;
        tx.execute_script(DROP_AUDIT_LOG)
            .await
            .map_err(|e| estate_engine::Error::Migrator(format!("audit: {e}")))?;
        Ledger::erase(&mut tx, "audit", scope, 1)
            .await
            .map_err(|e| estate_engine::Error::db(db.label(), e))?;
        tx.commit().await?;
        let millis = started.elapsed().as_millis() as u64;
        Ok(self.ran(scope, db, RunDirection::Down, millis, run))
    }
}

/// The sample contexts plus `audit`: a manifest only, no migrations folder.
fn audit_project() -> Scratch {
    let s = Scratch::new();
    s.write(
        "contexts/audit/context.toml",
        "name = \"audit\"\ntitle = \"Audit\"\nversion = \"0.1.0\"\ndescription = \"Who did what, per tenant.\"\nrequires = [\"user_management\"]\n",
    );
    s
}

/// Runs a fixture SQLite helper off the async runtime (each starts its own).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// `query`, from async code.
async fn rows(db: DbRef, sql: &'static str) -> Vec<Vec<String>> {
    blocking(move || query(&db, sql)).await
}

/// `tables`, from async code.
async fn table_names(db: DbRef) -> Vec<String> {
    blocking(move || tables(&db)).await
}

/// The ledger rows of the `audit` context in a database (one `1` each), from async code.
async fn audit_ledger_rows(db: DbRef) -> Vec<Vec<String>> {
    rows(db, "SELECT 1 FROM estate_ledger WHERE context = 'audit'").await
}

/// Whether the database has the `audit_log` table, from async code.
async fn has_audit_log(db: DbRef) -> bool {
    blocking(move || has_table(&db, "audit_log")).await
}

fn acme() -> TenantSelection {
    TenantSelection::Only(vec![Slug::parse("acme").unwrap()])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_written_migrator_installs_reports_and_rolls_back_its_context() -> TestResult {
    let s = audit_project();
    let config = Config::load(Some(&s.path("config/estate.toml")))?;
    let audit = AuditMigrator::new();
    let project = Project::create_with(config, audit.registered()).await?;
    assert_eq!(
        project.migrator("audit").map(|m| m.context().to_string()),
        Some("audit".to_string())
    );
    project.add_tenant("acme", None, None).await?;
    project.add_tenant("globex", None, None).await?;

    // The plan: user_management (required) first, then audit; audit has no landlord step.
    let plan = project.plan_install(&["audit".into()], &acme()).await?;
    let order: Vec<(String, Scope, Option<String>)> = plan
        .steps()
        .iter()
        .map(|st| (st.module.clone(), st.scope, st.tenant.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("user_management".into(), Scope::Landlord, None),
            ("user_management".into(), Scope::Tenant, Some("acme".into())),
            ("audit".into(), Scope::Tenant, Some("acme".into())),
        ],
        "plan: {plan:#?}"
    );
    let acme_steps = &plan.tenant_steps["acme"];
    assert_eq!(acme_steps[0].reason.as_deref(), Some("required"));
    assert_eq!(acme_steps[1].reason, None);
    assert_eq!(acme_steps[1].after, names(&["user_management"]));
    assert_eq!(
        acme_steps[1].migrations[..],
        [AuditMigrator::tenant_migration()]
    );
    assert!(!plan.tenant_steps.contains_key("globex"), "{plan:#?}");
    assert!(
        plan.notes.iter().any(|n| n.contains("user_management")),
        "the plan says user_management was added: {:?}",
        plan.notes
    );

    // Run it, listening to the events.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let report = project.run(&plan, Some(tx), JobControl::default()).await?;
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(report.succeeded(), 3);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    assert!(
        events.iter().any(|e| matches!(e,
            JobEvent::ModuleInstalled { tenant, module } if tenant == "acme" && module == "audit")),
        "no ModuleInstalled for audit: {events:#?}"
    );
    assert!(events.iter().any(|e| matches!(e,
        JobEvent::MigrationApplied { run, .. } if run.context == "audit" && run.version == 1)));
    assert_eq!(
        *audit.calls.lock().unwrap(),
        vec![(Scope::Tenant, RunDirection::Up, 1)]
    );

    // The table and its ledger row are in acme's database, nowhere else.
    let acme_db = s.tenant_db("acme");
    assert!(has_audit_log(acme_db.clone()).await);
    assert_eq!(
        rows(
            acme_db.clone(),
            "SELECT context, scope, version, description, applied_by FROM estate_ledger WHERE context = 'audit'"
        )
        .await,
        vec![vec![
            "audit".to_string(),
            "tenant".to_string(),
            "1".to_string(),
            "create audit log".to_string(),
            project.operator().to_string(),
        ]]
    );
    let checksum_row = rows(
        acme_db.clone(),
        "SELECT checksum FROM estate_ledger WHERE context = 'audit'",
    )
    .await;
    assert_eq!(checksum_row[0][0], checksum(CREATE_AUDIT_LOG.as_bytes()));
    assert!(!has_audit_log(s.tenant_db("globex")).await);
    assert!(!has_audit_log(s.landlord()).await);
    assert!(audit_ledger_rows(s.landlord()).await.is_empty());
    // The registry recorded the installation by listening to the job's events.
    assert_eq!(
        rows(
            s.landlord(),
            "SELECT tenant, module, state FROM estate_tenant_modules ORDER BY tenant, module"
        )
        .await,
        vec![
            names(&["acme", "audit", "installed"]),
            names(&["acme", "user_management", "installed"]),
        ]
    );
    assert_eq!(
        rows(
            s.landlord(),
            "SELECT scope, action, outcome FROM estate_history WHERE module = 'audit'"
        )
        .await,
        vec![names(&["tenant", "install", "succeeded"])]
    );

    // Status: audit installed for acme (1 applied, none pending), not installed for globex.
    let status = project.status(Some("acme")).await?;
    let row = status
        .iter()
        .find(|r| r.module == "audit")
        .expect("status has a row for audit");
    assert_eq!(row.state, ModuleState::Installed, "{status:#?}");
    assert_eq!((row.applied, row.pending), (1, 0));
    let um = status
        .iter()
        .find(|r| r.module == "user_management")
        .unwrap();
    assert_eq!(um.state, ModuleState::Installed);
    let globex = project.status(Some("globex")).await?;
    assert_eq!(
        globex.iter().find(|r| r.module == "audit").unwrap().state,
        ModuleState::NotInstalled
    );

    // Installing again plans nothing for audit: its status says it is up to date.
    let again = project.plan_install(&["audit".into()], &acme()).await?;
    assert!(again.is_empty(), "{again:#?}");

    // user_management cannot go while audit needs it.
    let refused = project
        .plan_rollback(&["user_management".into()], &acme(), false)
        .await
        .expect_err("audit requires user_management");
    assert!(refused.is_refusal());
    assert!(refused.to_string().contains("audit"), "{refused}");

    // Roll audit back: table and ledger row go, in the same transaction.
    let plan = project
        .plan_rollback(&["audit".into()], &acme(), false)
        .await?;
    let steps = plan.steps();
    assert_eq!(steps.len(), 1, "{plan:#?}");
    assert_eq!(
        (steps[0].module.as_str(), steps[0].scope, steps[0].action),
        ("audit", Scope::Tenant, Action::Rollback)
    );
    let report = project.run(&plan, None, JobControl::default()).await?;
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(
        *audit.calls.lock().unwrap(),
        vec![
            (Scope::Tenant, RunDirection::Up, 1),
            (Scope::Tenant, RunDirection::Down, 1)
        ]
    );
    let tables_after = table_names(acme_db.clone()).await;
    assert!(
        !tables_after.contains(&"audit_log".to_string()),
        "{tables_after:?}"
    );
    assert!(tables_after.contains(&"user_profiles".to_string()));
    assert!(audit_ledger_rows(acme_db.clone()).await.is_empty());
    // user_management's own rows are untouched.
    assert_eq!(
        rows(
            acme_db,
            "SELECT version FROM estate_ledger WHERE context = 'user_management' ORDER BY version"
        )
        .await,
        vec![names(&["1"]), names(&["2"])]
    );
    let status = project.status(Some("acme")).await?;
    assert_eq!(
        status.iter().find(|r| r.module == "audit").unwrap().state,
        ModuleState::NotInstalled
    );
    project.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_a_migrator_for_a_context_not_in_the_catalog_is_refused() -> TestResult {
    let s = Scratch::new(); // no `audit` folder
    let config = Config::load(Some(&s.path("config/estate.toml")))?;
    let err = match Project::open_with(config, AuditMigrator::new().registered()).await {
        Ok(_) => panic!("audit is not in the catalog"),
        Err(e) => e,
    };
    assert!(err.is_refusal(), "{err:?}");
    let message = err.to_string();
    assert_has(
        &message,
        "registers a Rust migrator for the context \"audit\"",
    );
    assert_has(&message, "fix: add the folder audit/");
    // Refused before the landlord was opened: nothing was created.
    assert!(!s.path("var/landlord.db").exists());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_its_migrator_the_manifest_only_context_has_nothing_to_run() -> TestResult {
    // The control case: the same project without registering AuditMigrator. The built-in SQL
    // migrator finds no migrations for audit, so no audit_log table appears: the table in the
    // first test came from the hand-written migrator.
    let s = audit_project();
    let project = Project::create(Config::load(Some(&s.path("config/estate.toml")))?).await?;
    project.add_tenant("acme", None, None).await?;
    let plan = project.plan_install(&["audit".into()], &acme()).await?;
    let audit_steps: Vec<_> = plan
        .steps()
        .into_iter()
        .filter(|s| s.module == "audit")
        .collect();
    assert!(
        audit_steps.iter().all(|s| s.migrations.is_empty()),
        "{plan:#?}"
    );
    project.run(&plan, None, JobControl::default()).await?;
    assert!(!has_audit_log(s.tenant_db("acme")).await);
    project.close().await;
    Ok(())
}

/// `audit_project` whose manifest says its migrator is in the binary `embedded`.
fn audit_in_embedded() -> Scratch {
    let s = audit_project();
    s.write(
        "contexts/audit/context.toml",
        "name = \"audit\"\ntitle = \"Audit\"\nversion = \"0.1.0\"\ndescription = \"Who did what, per tenant.\"\nrequires = [\"user_management\"]\n\n[migrator]\nbinary = \"embedded\"\n",
    );
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_whose_migrator_is_in_another_binary_is_shown_and_judged_by_that_binary_only()
-> TestResult {
    let s = audit_in_embedded();
    let config = || Config::load(Some(&s.path("config/estate.toml")));

    // The binary that has the migrator installs audit, and its verify claims audit_log as
    // audit's (from the SQL the migrator hands over): no finding.
    let embedded = Project::create_with(config()?, AuditMigrator::new().registered()).await?;
    embedded.add_tenant("acme", None, None).await?;
    let plan = embedded.plan_install(&["audit".into()], &acme()).await?;
    assert!(
        embedded
            .run(&plan, None, JobControl::default())
            .await?
            .is_success()
    );
    let verified = embedded.verify(&TenantSelection::All, false).await?;
    assert!(verified.findings.is_empty(), "{verified:#?}");
    assert!(verified.notes.is_empty(), "{verified:#?}");
    embedded.close().await;

    // Any other binary: audit is listed and shown installed from its ledger rows...
    let plain = Project::open(config()?).await?;
    assert_eq!(
        plain.migrator("audit").and_then(|m| m.elsewhere()),
        Some("embedded")
    );
    let status = plain.status(Some("acme")).await?;
    let row = status.iter().find(|r| r.module == "audit").unwrap();
    assert_eq!(row.state, ModuleState::Installed, "{status:#?}");

    // ...but nothing that would run its migrator is planned, and the refusal names the binary.
    for refused in [
        plain.plan_install(&["audit".into()], &acme()).await,
        plain.plan_rollback(&["audit".into()], &acme(), false).await,
        plain
            .plan_migrate(&["audit".into()], &acme(), &[Scope::Tenant])
            .await,
    ] {
        let err = refused.expect_err("audit's migrator is not in this binary");
        assert!(err.is_refusal(), "{err:?}");
        assert_has(&err.to_string(), "the binary `embedded`");
    }
    // A plan for the other modules of a tenant that has audit goes ahead: audit's ledger rows
    // are not read as migrations whose files are gone.
    let other = plain.plan_install(&["calendar".into()], &acme()).await?;
    assert!(!other.is_empty(), "{other:#?}");
    assert!(
        plain
            .run(&other, None, JobControl::default())
            .await?
            .is_success()
    );
    let all = plain
        .plan_migrate(&[], &acme(), &[Scope::Landlord, Scope::Tenant])
        .await?;
    assert!(
        all.notes.iter().any(|n| n.starts_with("audit is left out")),
        "{:?}",
        all.notes
    );

    // Its verify says nothing is wrong, and says what it left to `embedded`.
    let verified = plain.verify(&TenantSelection::All, false).await?;
    assert!(verified.findings.is_empty(), "{verified:#?}");
    assert_eq!(verified.notes.len(), 1, "{verified:#?}");
    assert_has(
        &verified.notes[0],
        "audit's migrations and tables are known only to the binary `embedded`",
    );
    plain.close().await;

    // A table nobody creates is still found by the binary that knows every context's tables.
    blocking({
        let db = s.tenant_db("acme");
        move || exec(&db, "CREATE TABLE stray (id INTEGER)")
    })
    .await;
    let embedded = Project::open_with(config()?, AuditMigrator::new().registered()).await?;
    let verified = embedded.verify(&TenantSelection::All, false).await?;
    let details: Vec<&str> = verified
        .findings
        .iter()
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(
        details,
        ["table stray is there, but no migration of any context creates it"]
    );
    embedded.close().await;
    Ok(())
}
