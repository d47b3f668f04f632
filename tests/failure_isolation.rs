//! One tenant's failure stays that tenant's: its database keeps no trace of the failed
//! migration, the other tenants are done, the exit status is 1, the registry says `failed`, the
//! history says why, and `migrate` finishes the job once the cause is fixed.

mod common;
use common::*;

use serde_json::Value;
use std::path::Path;

/// Runs SQL on a SQLite file with a read-write connection (common::query is read-only).
fn exec(db: &Path, sql: &str) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}?mode=rw", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

fn state(status: &Value, tenant: &str, module: &str) -> (String, i64, i64) {
    let r = status
        .as_array()
        .expect("status --json is an array")
        .iter()
        .find(|r| r["tenant"] == tenant && r["module"] == module)
        .unwrap_or_else(|| panic!("no status row for {tenant}/{module} in {status:#}"));
    (
        r["state"].as_str().unwrap().to_string(),
        r["applied"].as_i64().unwrap(),
        r["pending"].as_i64().unwrap(),
    )
}

fn st(state: &str, applied: i64, pending: i64) -> (String, i64, i64) {
    (state.to_string(), applied, pending)
}

fn calendar_versions(db: &Path) -> Vec<String> {
    query(
        db,
        "SELECT version FROM estate_ledger WHERE context = 'calendar' ORDER BY version",
    )
    .into_iter()
    .map(|mut r| r.remove(0))
    .collect()
}

fn columns(db: &Path, table: &str) -> Vec<String> {
    query(
        db,
        &format!("SELECT name FROM pragma_table_info('{table}')"),
    )
    .into_iter()
    .map(|mut r| r.remove(0))
    .collect()
}

fn has_color(db: &Path) -> bool {
    columns(db, "events").contains(&"color".to_string())
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The last history row of a tenant and module.
fn last_history(s: &Scratch, tenant: &str, module: &str) -> Value {
    let h = s
        .estate(&["history", module, "--tenant", tenant, "--json"])
        .expect(0)
        .json();
    h.as_array()
        .unwrap()
        .last()
        .unwrap_or_else(|| panic!("no history for {tenant}/{module}"))
        .clone()
}

const MIGRATION: &str = "contexts/calendar/migrations/tenant/0004_add_color_to_events";

/// acme and globex with calendar installed, and a 0004 whose second statement only works
/// where a table `events_guard` exists: in acme, not in globex.
fn calendar_with_a_migration_that_fails_on_globex() -> Scratch {
    let s = Scratch::new();
    s.estate(&["tenants", "add", "acme"]).expect(0);
    s.estate(&["tenants", "add", "globex"]).expect(0);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    s.write(
        &format!("{MIGRATION}.up.sql"),
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\nINSERT INTO events_guard VALUES (1);\n",
    );
    s.write(
        &format!("{MIGRATION}.down.sql"),
        "ALTER TABLE events DROP COLUMN color;\n",
    );
    exec(
        &s.tenant_db("acme"),
        "CREATE TABLE events_guard (x INTEGER);",
    );
    s
}

/// Runs the failing migrate and checks everything the failure must leave behind.
fn migrate_and_fail_on_globex(s: &Scratch) {
    let globex_ledger = query(&s.tenant_db("globex"), "SELECT * FROM estate_ledger");
    let run = s.estate(&["migrate", "calendar", "--all"]).expect(1);
    assert!(
        run.stdout
            .contains("upgrade: 1 succeeded, 1 failed, 0 skipped; 1 migration"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0004_add_color_to_events.up.sql"),
        "the report names the file:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("globex"), "{}", run.stdout);

    // acme is done.
    assert!(has_color(&s.tenant_db("acme")));
    assert_eq!(
        calendar_versions(&s.tenant_db("acme")),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        query(&s.tenant_db("acme"), "SELECT x FROM events_guard"),
        vec![names(&["1"])]
    );

    // globex keeps no trace of 0004: no column, no ledger row, the ledger as it was.
    assert!(
        !has_color(&s.tenant_db("globex")),
        "the failed migration's first statement stayed in globex"
    );
    assert_eq!(calendar_versions(&s.tenant_db("globex")), ["1", "2", "3"]);
    assert_eq!(
        query(&s.tenant_db("globex"), "SELECT * FROM estate_ledger"),
        globex_ledger
    );
    assert_eq!(
        tables(&s.tenant_db("globex")),
        names(&["calendars", "estate_ledger", "events", "user_profiles"])
    );

    let status = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&status, "acme", "calendar"), st("installed", 5, 0));
    assert_eq!(state(&status, "globex", "calendar"), st("failed", 4, 1));
    assert_eq!(
        state(&status, "globex", "user_management"),
        st("installed", 3, 0)
    );
    let human = s.estate(&["status"]).expect(0);
    let globex_line = human
        .stdout
        .lines()
        .find(|l| l.starts_with("globex"))
        .unwrap();
    assert!(globex_line.contains("failed"), "{}", human.stdout);

    let h = last_history(s, "globex", "calendar");
    assert_eq!(h["action"], "upgrade");
    assert_eq!(h["outcome"], "failed");
    assert_eq!(h["operator"], "tester");
    let error = h["error"].as_str().expect("a failed row has an error");
    assert!(
        error.contains("0004_add_color_to_events.up.sql"),
        "the error names the migration file: {error}"
    );
    assert!(error.contains("events_guard"), "{error}");
    let h = last_history(s, "acme", "calendar");
    assert_eq!(h["action"], "upgrade");
    assert_eq!(h["outcome"], "succeeded");
    assert_eq!(h["migrations"], "4");
    assert_eq!(h["error"], Value::Null);

    let registry = query(
        &s.landlord(),
        "SELECT tenant, state, error IS NOT NULL FROM estate_tenant_modules \
         WHERE module = 'calendar' ORDER BY tenant",
    );
    assert_eq!(
        registry,
        vec![
            names(&["acme", "installed", "0"]),
            names(&["globex", "failed", "1"])
        ]
    );
}

#[test]
fn a_sql_error_fails_on_that_tenant_only_and_migrate_finishes_it_once_fixed() {
    let s = calendar_with_a_migration_that_fails_on_globex();
    migrate_and_fail_on_globex(&s);

    // Fix the cause on globex; `migrate` retries the failed tenant and only it.
    exec(
        &s.tenant_db("globex"),
        "CREATE TABLE events_guard (x INTEGER);",
    );
    let acme_before = std::fs::read(s.tenant_db("acme")).unwrap();
    let run = s.estate(&["migrate"]).expect(0);
    assert!(
        run.stdout
            .contains("upgrade: 1 succeeded, 0 failed, 0 skipped; 1 migration"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read(s.tenant_db("acme")).unwrap(),
        acme_before,
        "acme was done already and must not be touched"
    );
    assert!(has_color(&s.tenant_db("globex")));
    assert_eq!(
        calendar_versions(&s.tenant_db("globex")),
        ["1", "2", "3", "4"]
    );
    let status = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 5, 0));
    assert_eq!(state(&status, "acme", "calendar"), st("installed", 5, 0));
    let h = last_history(&s, "globex", "calendar");
    assert_eq!(h["outcome"], "succeeded");
    assert_eq!(h["migrations"], "4");
}

#[test]
fn fixing_a_file_another_tenant_applied_is_drift_but_the_failed_tenant_can_be_finished() {
    let s = calendar_with_a_migration_that_fails_on_globex();
    migrate_and_fail_on_globex(&s);

    // Fix the file: acme applied the old text, so a migrate that covers acme sees the drift
    // and refuses before anything runs, naming the file.
    s.write(
        &format!("{MIGRATION}.up.sql"),
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n",
    );
    let snap = s.snapshot();
    let r = s.estate(&["migrate"]).expect(2);
    assert!(
        r.stderr.contains("0004_add_color_to_events.up.sql") && r.stderr.contains("acme"),
        "{}",
        r.stderr
    );
    assert!(s.snapshot() == snap, "a refused migrate changed a database");

    // The failed tenant alone: the fixed file completes it.
    s.estate(&["migrate", "calendar", "--tenant", "globex"])
        .expect(0);
    assert!(has_color(&s.tenant_db("globex")));
    assert_eq!(
        calendar_versions(&s.tenant_db("globex")),
        ["1", "2", "3", "4"]
    );
    let status = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 5, 0));
}

#[test]
fn a_broken_file_fails_everywhere_it_runs_and_fixing_it_completes_the_migrate() {
    let s = Scratch::new();
    for t in ["acme", "globex"] {
        s.estate(&["tenants", "add", t]).expect(0);
    }
    s.estate(&["install", "calendar", "--all"]).expect(0);
    s.write(
        &format!("{MIGRATION}.up.sql"),
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\nALTER TABLE events ADD COLUMN;\n",
    );
    s.write(
        &format!("{MIGRATION}.down.sql"),
        "ALTER TABLE events DROP COLUMN color;\n",
    );
    let run = s
        .estate(&["migrate", "calendar", "--all", "--json"])
        .expect(1);
    let report = run.json();
    let steps = report["report"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for step in steps {
        assert_eq!(step["outcome"], "failed", "{step}");
        assert!(
            step["error"]
                .as_str()
                .unwrap()
                .contains("0004_add_color_to_events.up.sql"),
            "{step}"
        );
        assert_eq!(step["migrations"], serde_json::json!([]));
    }
    for t in ["acme", "globex"] {
        assert!(!has_color(&s.tenant_db(t)), "{t}");
        assert_eq!(calendar_versions(&s.tenant_db(t)), ["1", "2", "3"], "{t}");
    }
    let status = s.estate(&["status", "--json"]).expect(0).json();
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "calendar"), st("failed", 4, 1), "{t}");
    }

    s.write(
        &format!("{MIGRATION}.up.sql"),
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n",
    );
    s.estate(&["migrate"]).expect(0);
    let status = s.estate(&["status", "--json"]).expect(0).json();
    for t in ["acme", "globex"] {
        assert!(has_color(&s.tenant_db(t)), "{t}");
        assert_eq!(calendar_versions(&s.tenant_db(t)), ["1", "2", "3", "4"]);
        assert_eq!(state(&status, t, "calendar"), st("installed", 5, 0), "{t}");
    }
}

#[test]
fn an_install_that_fails_for_one_tenant_leaves_it_clean_and_installs_the_others() {
    let s = Scratch::new();
    for t in ["acme", "globex"] {
        s.estate(&["tenants", "add", t]).expect(0);
    }
    // A table of the same name made by hand in globex: calendar's 0001 cannot create it there.
    exec(
        &s.tenant_db("globex"),
        "CREATE TABLE calendars (x INTEGER); INSERT INTO calendars VALUES (42);",
    );

    let run = s
        .estate(&["install", "calendar", "--all", "--json"])
        .expect(1);
    let report = run.json();
    let mut outcomes: Vec<(String, String, String)> = report["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["tenant"].as_str().unwrap_or("-").to_string(),
                st["module"].as_str().unwrap().to_string(),
                st["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            ("-".into(), "calendar".into(), "succeeded".into()),
            ("-".into(), "user_management".into(), "succeeded".into()),
            ("acme".into(), "calendar".into(), "succeeded".into()),
            ("acme".into(), "user_management".into(), "succeeded".into()),
            ("globex".into(), "calendar".into(), "failed".into()),
            (
                "globex".into(),
                "user_management".into(),
                "succeeded".into()
            ),
        ]
    );

    // acme: installed.
    assert_eq!(
        tables(&s.tenant_db("acme")),
        names(&["calendars", "estate_ledger", "events", "user_profiles"])
    );
    assert_eq!(calendar_versions(&s.tenant_db("acme")), ["1", "2", "3"]);
    // globex: no calendar ledger rows, no events table, the hand-made table untouched.
    assert_eq!(
        calendar_versions(&s.tenant_db("globex")),
        Vec::<String>::new()
    );
    assert_eq!(
        tables(&s.tenant_db("globex")),
        names(&["calendars", "estate_ledger", "user_profiles"])
    );
    assert_eq!(columns(&s.tenant_db("globex"), "calendars"), ["x"]);
    assert_eq!(
        query(&s.tenant_db("globex"), "SELECT x FROM calendars"),
        vec![names(&["42"])]
    );
    // The landlord's part is there: acme keeps calendar.
    assert!(tables(&s.landlord()).contains(&"calendar_global_config".to_string()));

    let status = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&status, "acme", "calendar"), st("installed", 4, 0));
    assert_eq!(state(&status, "globex", "calendar"), st("failed", 1, 3));
    assert_eq!(
        state(&status, "globex", "user_management"),
        st("installed", 3, 0)
    );

    let h = last_history(&s, "globex", "calendar");
    assert_eq!(h["action"], "install");
    assert_eq!(h["outcome"], "failed");
    let error = h["error"].as_str().unwrap();
    assert!(
        error.contains("0001_create_calendars.up.sql") && error.contains("already exists"),
        "{error}"
    );

    // Remove the obstacle; migrate finishes the install for globex.
    exec(&s.tenant_db("globex"), "DROP TABLE calendars;");
    s.estate(&["migrate"]).expect(0);
    assert_eq!(calendar_versions(&s.tenant_db("globex")), ["1", "2", "3"]);
    assert_eq!(
        tables(&s.tenant_db("globex")),
        names(&["calendars", "estate_ledger", "events", "user_profiles"])
    );
    let status = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 4, 0));
}
