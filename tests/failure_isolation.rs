//! One tenant's failure stays that tenant's: its database keeps no trace of the failed
//! migration, the other tenants are done, the exit status is 1, the registry says `failed`, the
//! history says why, and `migrate` finishes the job once the cause is fixed. Each scenario runs
//! on SQLite and on both PostgreSQL layouts (`common::Setup`), where acme and globex live on two
//! different servers.

mod common;
use common::*;

use serde_json::Value;

/// The versions of calendar's ledger rows in a database, in order.
fn calendar_versions(db: &DbRef) -> Vec<String> {
    first_column(
        db,
        "SELECT version FROM estate_ledger WHERE context = 'calendar' ORDER BY version",
    )
}

/// Asserts that calendar's migration 0004 is applied in a database: its column and ledger row.
fn assert_color_applied(db: &DbRef) {
    assert!(has_color(db), "{}", db.display());
    assert_eq!(
        calendar_versions(db),
        ["1", "2", "3", "4"],
        "{}",
        db.display()
    );
}

/// The last history row of a tenant and module.
fn last_history(s: &Scratch, tenant: &str, module: &str) -> Value {
    let h = s.estate_json(&["history", module, "--tenant", tenant, "--json"]);
    h.as_array()
        .unwrap()
        .last()
        .unwrap_or_else(|| panic!("no history for {tenant}/{module}"))
        .clone()
}

/// acme and globex with calendar installed, and calendar's 0004 written with `up` as its up SQL.
fn calendar_with_color_migration(setup: Setup, up: &str) -> Scratch {
    let s = two_tenants(setup);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    color_migration(&s, up);
    s
}

/// Rewrites 0004's up file with the SQL that works everywhere, leaving its down file alone.
fn fix_color_migration(s: &Scratch) {
    migration(
        s,
        "calendar",
        "tenant",
        "0004_add_color_to_events.up.sql",
        ADD_COLOR,
    );
}

/// acme and globex with calendar installed, and a 0004 whose second statement only works
/// where a table `events_guard` exists: in acme, not in globex.
fn calendar_with_a_migration_that_fails_on_globex(setup: Setup) -> Scratch {
    let s = calendar_with_color_migration(
        setup,
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\nINSERT INTO events_guard VALUES (1);\n",
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
    let run = s.estate_summary(
        &["migrate", "calendar", "--all"],
        1,
        "upgrade: 1 succeeded, 1 failed, 0 skipped; 1 migration",
    );
    assert!(
        run.stdout.contains("0004_add_color_to_events.up.sql"),
        "the report names the file:\n{}",
        run.stdout
    );
    assert_has(&run.stdout, "globex");

    // acme is done.
    assert_color_applied(&s.tenant_db("acme"));
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

    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("installed", 5, 0)),
            ("globex", "calendar", st("failed", 4, 1)),
            ("globex", "user_management", st("installed", 3, 0)),
        ],
    );
    let human = s.estate(&["status"]).expect(0);
    let globex_line = line_starting(&human.stdout, "globex");
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
    assert_has(error, "events_guard");
    // `--failed` asks the registry for the failed steps alone: globex's, and only it.
    let failed = s.estate_json(&["history", "calendar", "--failed", "--json"]);
    let failed: Vec<(&str, &str)> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["tenant"].as_str().unwrap(),
                h["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(failed, [("globex", "failed")]);
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
    assert_matrix_matches_status(s);
}

on_every_setup!(a_sql_error_fails_on_that_tenant_only_and_migrate_finishes_it_once_fixed);
fn a_sql_error_fails_on_that_tenant_only_and_migrate_finishes_it_once_fixed(setup: Setup) {
    let s = calendar_with_a_migration_that_fails_on_globex(setup);
    migrate_and_fail_on_globex(&s);

    // Fix the cause on globex; `migrate` retries the failed tenant and only it.
    exec(
        &s.tenant_db("globex"),
        "CREATE TABLE events_guard (x INTEGER);",
    );
    let acme_before = content(&s.tenant_db("acme"));
    s.estate_summary(
        &["migrate"],
        0,
        "upgrade: 1 succeeded, 0 failed, 0 skipped; 1 migration",
    );
    assert_eq!(
        content(&s.tenant_db("acme")),
        acme_before,
        "acme was done already and must not be touched"
    );
    assert_color_applied(&s.tenant_db("globex"));
    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("globex", "calendar", st("installed", 5, 0)),
            ("acme", "calendar", st("installed", 5, 0)),
        ],
    );
    let h = last_history(&s, "globex", "calendar");
    assert_eq!(h["outcome"], "succeeded");
    assert_eq!(h["migrations"], "4");
}

on_every_setup!(
    fixing_a_file_another_tenant_applied_is_drift_but_the_failed_tenant_can_be_finished
);
fn fixing_a_file_another_tenant_applied_is_drift_but_the_failed_tenant_can_be_finished(
    setup: Setup,
) {
    let s = calendar_with_a_migration_that_fails_on_globex(setup);
    migrate_and_fail_on_globex(&s);

    // Fix the file: acme applied the old text, so a migrate that covers acme sees the drift
    // and refuses before anything runs, naming the file.
    fix_color_migration(&s);
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
    assert_color_applied(&s.tenant_db("globex"));
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 5, 0));
}

on_every_setup!(a_broken_file_fails_everywhere_it_runs_and_fixing_it_completes_the_migrate);
fn a_broken_file_fails_everywhere_it_runs_and_fixing_it_completes_the_migrate(setup: Setup) {
    let s = calendar_with_color_migration(
        setup,
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\nALTER TABLE events ADD COLUMN;\n",
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
    assert_state_on(&s, &["acme", "globex"], "calendar", st("failed", 4, 1));

    fix_color_migration(&s);
    s.estate(&["migrate"]).expect(0);
    for t in ["acme", "globex"] {
        assert_color_applied(&s.tenant_db(t));
    }
    assert_state_on(&s, &["acme", "globex"], "calendar", st("installed", 5, 0));
}

on_every_setup!(an_install_that_fails_for_one_tenant_leaves_it_clean_and_installs_the_others);
fn an_install_that_fails_for_one_tenant_leaves_it_clean_and_installs_the_others(setup: Setup) {
    let s = two_tenants(setup);
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
    assert!(has_table(&s.landlord(), "calendar_global_config"));

    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("installed", 4, 0)),
            ("globex", "calendar", st("failed", 1, 3)),
            ("globex", "user_management", st("installed", 3, 0)),
        ],
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
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 4, 0));
}

on_every_setup!(a_step_blocked_by_its_requirement_is_recorded_and_migrate_installs_it);
/// The operator's intent outlives a failure: installing digital_card where user_management
/// fails on globex leaves digital_card failed there too (blocked, with why), the report names
/// the command that finishes it, and once the cause is fixed that command installs both.
fn a_step_blocked_by_its_requirement_is_recorded_and_migrate_installs_it(setup: Setup) {
    let s = two_tenants(setup);
    // user_management's first migration creates user_profiles: already there on globex.
    exec(
        &s.tenant_db("globex"),
        "CREATE TABLE user_profiles (x INTEGER);",
    );
    let run = s.estate_summary(
        &["install", "digital_card", "--all"],
        1,
        "install: 4 succeeded, 1 failed, 1 skipped",
    );
    assert_has(
        &run.stdout,
        "skipped install digital_card on tenant globex: requirement user_management did not succeed for globex",
    );
    assert_has(
        &run.stdout,
        "fix the cause, then run `estate migrate --tenant globex` to finish what failed or was blocked",
    );

    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "digital_card").0, "installed");
    assert_eq!(state(&status, "globex", "user_management").0, "failed");
    assert_eq!(state(&status, "globex", "digital_card").0, "failed");
    let registry = query(
        &s.landlord(),
        "SELECT state, error FROM estate_tenant_modules WHERE tenant = 'globex' AND module = 'digital_card'",
    );
    assert_eq!(
        registry,
        vec![names(&[
            "failed",
            "blocked: requirement user_management did not succeed for globex"
        ])]
    );
    let h = last_history(&s, "globex", "digital_card");
    assert_eq!(h["outcome"], "failed");
    assert_eq!(h["action"], "install");
    assert_eq!(
        h["error"],
        "blocked: requirement user_management did not succeed for globex"
    );
    assert!(!has_table(&s.tenant_db("globex"), "digital_cards"));
    assert_matrix_matches_status(&s);

    // The cause fixed, `migrate --all` finishes both on globex and leaves acme alone.
    exec(&s.tenant_db("globex"), "DROP TABLE user_profiles;");
    let acme_before = content(&s.tenant_db("acme"));
    let run = s.estate_summary(&["migrate", "--all"], 0, "upgrade: 2 succeeded, 0 failed");
    assert_has(
        &run.stdout,
        "install digital_card [tenant] (its install did not happen",
    );
    assert_eq!(content(&s.tenant_db("acme")), acme_before);
    assert!(has_table(&s.tenant_db("globex"), "digital_cards"));
    assert!(has_table(&s.tenant_db("globex"), "card_shares"));
    let status = s.estate_json(&["status", "--json"]);
    for (tenant, module) in [
        ("acme", "digital_card"),
        ("globex", "digital_card"),
        ("globex", "user_management"),
    ] {
        assert_eq!(
            state(&status, tenant, module).0,
            "installed",
            "{tenant}/{module}"
        );
    }
    let h = last_history(&s, "globex", "digital_card");
    assert_eq!(h["outcome"], "succeeded");
    assert_eq!(h["action"], "install");
    assert_matrix_matches_status(&s);
}

/// A tenant file overwritten with random bytes among healthy tenants: `status --live` and
/// `verify` report it as that tenant's finding and still show the others (exit 1), while
/// `status`, which answers from the registry and opens no database, still shows what the
/// last job left; a job fails its steps there as unreachable and never marks the modules
/// installed there failed.
#[test]
fn a_corrupt_tenant_among_healthy_ones_is_its_own_finding() {
    let s = with_tenants(Setup::Sqlite, &["acme", "globex", "initech"]);
    s.estate(&["install", "digital_card", "--all"]).expect(0);
    let DbRef::Sqlite(globex) = s.tenant_db("globex") else {
        unreachable!("SQLite")
    };
    let mut x: u64 = 0x0dd_ba11;
    let noise: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&globex, noise).unwrap();

    let recorded = s.estate(&["status", "--json"]).expect(0).json();
    assert_eq!(state(&recorded, "globex", "digital_card").0, "installed");
    let human = s.estate(&["status"]).expect(0).stderr;
    assert_has(
        &human,
        "`estate status --live` reads every tenant's database",
    );

    let status = s.estate(&["status", "--live", "--json"]).expect(1);
    assert_has(&status.stderr, "tenant globex: its database cannot be read");
    let rows = status.json();
    for t in ["acme", "initech"] {
        assert_eq!(state(&rows, t, "digital_card").0, "installed", "{t}");
    }
    assert_eq!(state(&rows, "globex", "digital_card").0, "unreachable");

    let verify = s.estate(&["verify", "--json"]).expect(1).json();
    let findings = verify["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{verify}");
    assert_eq!(findings[0]["database"], "globex");
    assert_eq!(findings[0]["kind"], "unreachable");

    let install = s.estate(&["install", "calendar", "--all"]).expect(1);
    assert_has(&install.stdout, "failed install calendar on tenant globex");
    let landlord = s.landlord();
    let globex_rows = query(
        &landlord,
        "SELECT module, state FROM estate_tenant_modules WHERE tenant = 'globex' ORDER BY module",
    );
    // The install asked for stays asked for (failed: `migrate` finishes it); what was
    // installed there keeps its state.
    assert_eq!(
        globex_rows,
        vec![
            vec!["calendar".to_string(), "failed".to_string()],
            vec!["digital_card".to_string(), "installed".to_string()],
            vec!["user_management".to_string(), "installed".to_string()],
        ],
        "an unreachable tenant's modules keep their state"
    );
    let status = s.estate(&["status", "--live", "--json"]).expect(1).json();
    for t in ["acme", "initech"] {
        assert_eq!(state(&status, t, "calendar").0, "installed", "{t}");
    }
    let recorded = s.estate(&["status", "--json"]).expect(0).json();
    for t in ["acme", "initech"] {
        assert_eq!(state(&recorded, t, "calendar").0, "installed", "{t}");
    }
    assert_eq!(state(&recorded, "globex", "calendar").0, "failed");
}
