//! `estate adopt`: databases another tool migrated (sqlx-cli with its ledger, a plain script
//! with a ledger estate cannot read) taken over without running anything; a database missing a
//! table refused by name while the others go on; what comes next applied to the adopted only.

mod common;
use common::*;

use std::path::Path;

const MODULE: &str = "sqlx_context";

/// The fixture's up files, in version order: (version, SQL).
fn ups() -> Vec<(i64, String)> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlx_context/migrations/tenant");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap().parse().unwrap();
            (version, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

/// Runs the first `n` migrations on `db` as another tool would, without estate.
fn migrate_by_hand(db: &DbRef, n: usize) {
    for (_, sql) in ups().iter().take(n) {
        exec(db, sql);
    }
}

on_every_setup!(databases_made_by_other_tools_are_adopted_and_a_missing_table_refused);
fn databases_made_by_other_tools_are_adopted_and_a_missing_table_refused(setup: Setup) {
    let s = with_tenants(setup, &["acme", "carol", "globex"]);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlx_context"),
        &s.path(&format!("contexts/{MODULE}")),
    );
    let versions: Vec<i64> = ups().iter().map(|(v, _)| *v).collect();
    // acme: sqlx-cli ran the first two, and its ledger says so.
    let acme = s.tenant_db("acme");
    migrate_by_hand(&acme, 2);
    exec(
        &acme,
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
         success BOOLEAN NOT NULL, checksum TEXT NOT NULL, execution_time BIGINT NOT NULL);",
    );
    for v in &versions[..2] {
        exec(
            &acme,
            &format!("INSERT INTO _sqlx_migrations VALUES ({v}, 'x', TRUE, 'c', 1);"),
        );
    }
    // globex: a plain script ran all four, with a ledger of its own estate cannot read.
    let globex = s.tenant_db("globex");
    migrate_by_hand(&globex, 4);
    exec(&globex, "CREATE TABLE schema_log (step INTEGER);");
    // carol: only the first ran; taggings is missing.
    let carol = s.tenant_db("carol");
    migrate_by_hand(&carol, 1);
    let carol_tables = tables(&carol);

    let dry = s.estate(&["adopt", MODULE, "--all", "--dry-run"]).expect(0);
    assert_has(
        &dry.stdout,
        "acme: sqlx_context matches sqlx-cli's ledger _sqlx_migrations lists 2 of its migrations",
    );
    assert_has(
        &dry.stdout,
        "globex: sqlx_context matches every migration of the module: 4",
    );
    assert_has(
        &dry.stdout,
        "carol: sqlx_context refused: table taggings is missing",
    );
    assert!(
        !has_table(&acme, "estate_ledger"),
        "a dry run changes nothing"
    );

    let run = s.estate(&["adopt", MODULE, "--all"]).expect(1);
    assert_has(&run.stdout, "table taggings is missing");
    let adopted_by = |db: &DbRef| {
        first_column(
            db,
            "SELECT version || ' ' || applied_by FROM estate_ledger ORDER BY version",
        )
    };
    let by = |vs: &[i64]| -> Vec<String> { vs.iter().map(|v| format!("{v} adopted")).collect() };
    assert_eq!(adopted_by(&acme), by(&versions[..2]));
    assert_eq!(adopted_by(&globex), by(&versions));
    assert!(
        !has_table(&carol, "estate_ledger"),
        "carol refused: nothing recorded"
    );
    assert_eq!(tables(&carol), carol_tables);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", MODULE), st("outdated", 2, 2));
    assert_eq!(state(&status, "globex", MODULE), st("installed", 4, 0));
    assert_eq!(state(&status, "carol", MODULE).0, "not_installed");
    let history = s.estate_json(&["history", "--json"]);
    let adoptions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "adopt" && h["outcome"] == "succeeded")
        .map(|h| h["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(adoptions.len(), 2, "{history:#}");

    // What comes next runs on the adopted tenants only: acme catches up, then a new one.
    s.estate(&["migrate", "--all"]).expect(0);
    assert!(has_column(&acme, "tags", "label"));
    s.write(
        &format!("contexts/{MODULE}/migrations/tenant/20240119000000_create_tag_notes.up.sql"),
        "CREATE TABLE tag_notes (tag_id INTEGER NOT NULL, body TEXT NOT NULL);\n",
    );
    s.write(
        &format!("contexts/{MODULE}/migrations/tenant/20240119000000_create_tag_notes.down.sql"),
        "DROP TABLE tag_notes;\n",
    );
    s.estate(&["migrate", "--all"]).expect(0);
    assert!(has_table(&acme, "tag_notes") && has_table(&globex, "tag_notes"));
    assert!(!has_table(&carol, "tag_notes"), "carol was not adopted");
    assert_eq!(tables(&carol), carol_tables);
    assert_state_on(&s, &["acme", "globex"], MODULE, st("installed", 5, 0));
    // The other tools' ledgers are left where they were, and verify says so until dropped.
    let run = s.estate(&["verify", "--tenant", "acme,globex"]).expect(1);
    assert_has(&run.stdout, "acme: table _sqlx_migrations is there");
    assert_has(&run.stdout, "globex: table schema_log is there");
    exec(&acme, "DROP TABLE _sqlx_migrations;");
    exec(&globex, "DROP TABLE schema_log;");
    s.estate(&["verify", "--tenant", "acme,globex"]).expect(0);
}

#[test]
fn bad_input_to_adopt_is_refused_and_changes_nothing() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    let before = s.snapshot();
    for (args, says) in [
        (&["adopt", "nope", "--all"][..], "nope"),
        (
            &["adopt", "digital_card", "--all", "--to", "999"],
            "has no migration 999",
        ),
        (
            &["adopt", "digital_card", "calendar", "--all", "--to", "1"],
            "one module",
        ),
        (&["adopt", "digital_card", "--tenant", "ghost"], "ghost"),
    ] {
        let run = s.estate(args).expect(2);
        assert_has(&format!("{}{}", run.stdout, run.stderr), says);
    }
    assert_eq!(s.snapshot(), before);
}

#[test]
fn the_landlord_scope_is_adopted_and_a_missing_column_refused() {
    let s = with_tenants(Setup::Sqlite, &["acme", "globex"]);
    s.estate(&["install", "digital_card", "--all"]).expect(0);
    // Made "by another tool": estate's records of digital_card are forgotten, its tables stay.
    let forget = "DELETE FROM estate_ledger WHERE context = 'digital_card';";
    for t in ["acme", "globex"] {
        exec(&s.tenant_db(t), forget);
    }
    exec(&s.landlord(), forget);
    exec(
        &s.landlord(),
        "DELETE FROM estate_tenant_modules WHERE module = 'digital_card';",
    );
    exec(
        &s.tenant_db("globex"),
        "ALTER TABLE card_shares DROP COLUMN view_count;",
    );

    let run = s.estate(&["adopt", "digital_card", "--all"]).expect(1);
    assert_has(&run.stdout, "the landlord: digital_card matches");
    assert_has(&run.stdout, "table card_shares has no column view_count");
    let adopted = |db: &DbRef, scope: &str| {
        first_column(
            db,
            &format!(
                "SELECT DISTINCT applied_by FROM estate_ledger
                 WHERE context = 'digital_card' AND scope = '{scope}'"
            ),
        )
    };
    assert_eq!(adopted(&s.landlord(), "landlord"), names(&["adopted"]));
    assert_eq!(adopted(&s.tenant_db("acme"), "tenant"), names(&["adopted"]));
    assert!(adopted(&s.tenant_db("globex"), "tenant").is_empty());
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "digital_card").0, "installed");
    assert_eq!(
        state(&status, "globex", "digital_card").0,
        "not_installed",
        "a refused adoption leaves no failed row"
    );
    // Already installed: nothing left to adopt, said so.
    let again = s
        .estate(&["adopt", "digital_card", "--tenant", "acme"])
        .expect(0);
    assert_has(&again.stdout, "acme already has digital_card");
}
