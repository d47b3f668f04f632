//! Migrations that run outside a transaction (`-- no-transaction` on their first line,
//! sqlx-cli's marker), on every engine: PostgreSQL's `CREATE INDEX CONCURRENTLY`, SQLite's
//! `VACUUM`, which each engine refuses inside a transaction. They run statement by statement
//! between the step's transactional migrations; one that fails or is killed partway leaves an
//! unfinished record that the next run refuses on, `verify` reports and `resolve` settles,
//! with the partial state named, never hidden.

mod common;
use common::*;

use std::process::Stdio;
use std::time::{Duration, Instant};

/// Writes calendar's tenant migration `name` with its SQL for each engine: `sqlite` in the
/// generic files, `postgres` in `.postgres.sql` ones.
fn per_engine(s: &Scratch, name: &str, sqlite: (&str, &str), postgres: (&str, &str)) {
    migration_pair(s, "calendar", "tenant", name, sqlite.0, sqlite.1);
    migration(
        s,
        "calendar",
        "tenant",
        &format!("{name}.up.postgres.sql"),
        postgres.0,
    );
    migration(
        s,
        "calendar",
        "tenant",
        &format!("{name}.down.postgres.sql"),
        postgres.1,
    );
}

fn has_index(db: &DbRef, name: &str) -> bool {
    let sql = if db.is_postgres() {
        format!("SELECT 1 WHERE to_regclass('{name}') IS NOT NULL")
    } else {
        format!("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '{name}'")
    };
    !query(db, &sql).is_empty()
}

/// (done, statements, error) of the unfinished rows of calendar on `db`.
fn unfinished(db: &DbRef) -> Vec<Vec<String>> {
    if !has_table(db, "estate_unfinished") {
        return Vec::new();
    }
    query(
        db,
        "SELECT version, direction, done, statements, COALESCE(error, '') FROM estate_unfinished ORDER BY version",
    )
}

fn calendar_versions(db: &DbRef) -> Vec<i64> {
    ledger(db)
        .into_iter()
        .filter(|(c, _, _)| c == "calendar")
        .map(|(_, _, v)| v)
        .collect()
}

/// 0004 (in a transaction), 0005 (outside: an index, built concurrently on PostgreSQL, and a
/// VACUUM on SQLite), 0006 (in a transaction).
fn mixed_step(s: &Scratch) {
    add_color_migration(s);
    per_engine(
        s,
        "0005_index_event_titles",
        (
            "-- no-transaction\nCREATE INDEX events_title_idx ON events (title);\nVACUUM;\n",
            "-- no-transaction\nDROP INDEX events_title_idx;\nVACUUM;\n",
        ),
        (
            "-- no-transaction\nCREATE INDEX CONCURRENTLY events_title_idx ON events (title);\n",
            "-- no-transaction\nDROP INDEX CONCURRENTLY events_title_idx;\n",
        ),
    );
    migration_pair(
        s,
        "calendar",
        "tenant",
        "0006_create_reminders",
        "CREATE TABLE reminders (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE reminders;\n",
    );
}

/// 0007, outside a transaction: its first index builds, its second names no table.
fn failing_second_statement(s: &Scratch) {
    per_engine(
        s,
        "0007_index_colors",
        (
            "-- no-transaction\nCREATE INDEX events_color_idx ON events (color);\nCREATE INDEX ghost_idx ON no_such_table (x);\n",
            "-- no-transaction\nDROP INDEX events_color_idx;\n",
        ),
        (
            "-- no-transaction\nCREATE INDEX CONCURRENTLY events_color_idx ON events (color);\nCREATE INDEX CONCURRENTLY ghost_idx ON no_such_table (x);\n",
            "-- no-transaction\nDROP INDEX CONCURRENTLY events_color_idx;\n",
        ),
    );
}

on_every_setup!(a_step_runs_its_no_transaction_migration_between_the_others);
fn a_step_runs_its_no_transaction_migration_between_the_others(setup: Setup) {
    let s = with_tenants(setup, &["acme", "globex"]);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    mixed_step(&s);
    // The plan says which migration runs outside a transaction, before anything runs.
    let plan = s
        .estate(&["migrate", "calendar", "--all", "--dry-run"])
        .expect(0);
    assert_has(
        &plan.stdout,
        "0004 add color to events, 0005 index event titles (outside a transaction), 0006 create reminders",
    );
    s.estate(&["migrate", "calendar", "--all"]).expect(0);
    for t in ["acme", "globex"] {
        let db = s.tenant_db(t);
        assert_eq!(calendar_versions(&db), [1, 2, 3, 4, 5, 6], "{t}");
        assert!(has_index(&db, "events_title_idx"), "{t}");
        assert!(has_table(&db, "reminders"), "{t}");
        assert!(unfinished(&db).is_empty(), "{t}: {:?}", unfinished(&db));
        // One step, one batch, whatever commits it took.
        let batches: Vec<i64> = ledger_batches(&db)
            .into_iter()
            .filter(|(c, _, v, _)| c == "calendar" && *v >= 4)
            .map(|(_, _, _, b)| b)
            .collect();
        assert!(batches.windows(2).all(|w| w[0] == w[1]), "{t}: {batches:?}");
    }
    // Its landlord migration and six of the tenant's.
    assert_state_on(&s, &["acme", "globex"], "calendar", st("installed", 7, 0));
    s.estate(&["verify"]).expect(0);

    // Back down through it: 0006 in a transaction, 0005 outside, the rest in one again.
    s.estate(&["rollback", "calendar", "--tenant", "acme", "-y"])
        .expect(0);
    let acme = s.tenant_db("acme");
    assert_eq!(calendar_versions(&acme), Vec::<i64>::new());
    assert!(!has_index(&acme, "events_title_idx"));
    assert!(!has_table(&acme, "reminders"));
    assert!(!has_table(&acme, "events"));
    assert!(unfinished(&acme).is_empty());
}

on_every_setup!(a_failed_statement_is_reported_refused_on_and_resolved_by_the_operator);
fn a_failed_statement_is_reported_refused_on_and_resolved_by_the_operator(setup: Setup) {
    let s = with_tenants(setup, &["acme", "globex"]);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    mixed_step(&s);
    failing_second_statement(&s);
    let run = s.estate(&["migrate", "calendar", "--all"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert_has(&said, "ran outside a transaction");
    assert_has(
        &said,
        "1 of 2 statement(s) committed, then statement 2 failed",
    );
    assert_has(&said, "no_such_table");
    assert_has(&said, "statement 2: CREATE INDEX");
    assert_has(&said, "estate resolve calendar --tenant");
    for t in ["acme", "globex"] {
        let db = s.tenant_db(t);
        // What came before it committed; its first statement stays, and says so.
        assert_eq!(calendar_versions(&db), [1, 2, 3, 4, 5, 6], "{t}");
        assert!(has_index(&db, "events_color_idx"), "{t}");
        let rows = unfinished(&db);
        assert_eq!(rows.len(), 1, "{t}: {rows:?}");
        assert_eq!(&rows[0][..4], ["7", "up", "1", "2"], "{t}");
        assert_has(&rows[0][4], "no_such_table");
    }
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "calendar"), st("failed", 7, 1));

    // The next run refuses to touch calendar there, changing nothing.
    let before = content(&s.tenant_db("acme"));
    let again = s.estate(&["migrate", "calendar", "--tenant", "acme"]);
    assert_ne!(again.code, 0);
    assert_has(
        &format!("{}{}", again.stdout, again.stderr),
        "did not finish applying",
    );
    assert!(content(&s.tenant_db("acme")) == before, "acme changed");

    // verify names it, with the fix.
    let report = s.estate(&["verify", "--json"]).expect(1).json();
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unfinished_migration")
        .map(|f| (f["database"].as_str().unwrap(), f["fix"].as_str().unwrap()))
        .collect();
    assert_eq!(found.len(), 2, "{report:#}");
    // The failed step's registry rows say what the ledgers hold: no disagreement to repair.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "registry_disagrees"),
        "{report:#}"
    );
    assert!(found.iter().all(|(_, fix)| fix.contains("estate resolve")));

    // acme: the operator drops the half-built index and says it is undone; the fixed file
    // then runs whole.
    exec(&s.tenant_db("acme"), "DROP INDEX events_color_idx");
    failing_fixed(&s);
    s.estate(&["resolve", "calendar", "--tenant", "acme", "--undone"])
        .expect(0);
    s.estate(&["migrate", "calendar", "--tenant", "acme"])
        .expect(0);
    let acme = s.tenant_db("acme");
    assert_eq!(calendar_versions(&acme), [1, 2, 3, 4, 5, 6, 7]);
    assert!(has_index(&acme, "events_color_idx") && has_index(&acme, "events_starts_idx"));
    assert!(unfinished(&acme).is_empty());

    // globex: the operator runs the rest by hand and says it is completed.
    exec(
        &s.tenant_db("globex"),
        "CREATE INDEX events_starts_idx ON events (starts_at)",
    );
    s.estate(&["resolve", "calendar", "--tenant", "globex", "--completed"])
        .expect(0);
    let globex = s.tenant_db("globex");
    assert_eq!(calendar_versions(&globex), [1, 2, 3, 4, 5, 6, 7]);
    assert!(unfinished(&globex).is_empty());
    assert_state_on(&s, &["acme", "globex"], "calendar", st("installed", 8, 0));
    s.estate(&["verify"]).expect(0);

    // Nothing left to resolve: refused, exit 2.
    let nothing = s.estate(&["resolve", "calendar", "--tenant", "globex", "--completed"]);
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert_has(
        &nothing.stderr,
        "no calendar tenant migration is unfinished",
    );
    let read_only = s.estate(&[
        "--read-only",
        "resolve",
        "calendar",
        "--tenant",
        "acme",
        "--undone",
    ]);
    assert_eq!(read_only.code, 2, "{}", read_only.stderr);
    assert_has(&read_only.stderr, "read-only");
}

/// 0007 as the operator fixes it: its second index on a real column.
fn failing_fixed(s: &Scratch) {
    per_engine(
        s,
        "0007_index_colors",
        (
            "-- no-transaction\nCREATE INDEX events_color_idx ON events (color);\nCREATE INDEX events_starts_idx ON events (starts_at);\n",
            "-- no-transaction\nDROP INDEX events_starts_idx;\nDROP INDEX events_color_idx;\n",
        ),
        (
            "-- no-transaction\nCREATE INDEX CONCURRENTLY events_color_idx ON events (color);\nCREATE INDEX CONCURRENTLY events_starts_idx ON events (starts_at);\n",
            "-- no-transaction\nDROP INDEX CONCURRENTLY events_starts_idx;\nDROP INDEX CONCURRENTLY events_color_idx;\n",
        ),
    );
}

on_every_setup!(killed_partway_it_is_reported_as_stopped_without_an_error);
fn killed_partway_it_is_reported_as_stopped_without_an_error(setup: Setup) {
    let s = with_tenants(setup, &["acme"]);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    add_color_migration(&s);
    // An index, then a long statement to be killed in.
    let slow = "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT x FROM c) AS n;\n";
    let up = format!("-- no-transaction\nCREATE INDEX events_color_idx ON events (color);\n{slow}");
    let up_pg = format!(
        "-- no-transaction\nCREATE INDEX CONCURRENTLY events_color_idx ON events (color);\n{slow}"
    );
    per_engine(
        &s,
        "0005_index_colors",
        (&up, "DROP INDEX events_color_idx;\n"),
        (&up_pg, "DROP INDEX events_color_idx;\n"),
    );
    let mut child = s
        .estate_command(&["migrate", "calendar", "--all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let acme = s.tenant_db("acme");
    let deadline = Instant::now() + Duration::from_secs(60);
    while unfinished(&acme).first().is_none_or(|r| r[2] != "1") {
        assert!(
            Instant::now() < deadline,
            "the first statement never committed"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "estate ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // 0004 committed before it; 0005's first statement stays, and the record says it stopped
    // without an error.
    assert_eq!(calendar_versions(&acme), [1, 2, 3, 4]);
    assert!(has_index(&acme, "events_color_idx"));
    assert_eq!(unfinished(&acme), vec![names(&["5", "up", "1", "2", ""])]);
    let report = s.estate(&["verify"]).expect(1);
    assert_has(&report.stdout, "stopped without an error");
    assert_has(&report.stdout, "statement 2 may have committed too");
    s.estate(&["resolve", "calendar", "--tenant", "acme", "--completed"])
        .expect(0);
    assert_eq!(calendar_versions(&acme), [1, 2, 3, 4, 5]);
    assert_state_on(&s, &["acme"], "calendar", st("installed", 6, 0));
}
