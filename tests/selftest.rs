//! `estate test CONTEXT` runs a context's migrations up, down and up again on scratch
//! databases and names the first whose down does not undo its up; the fleet's databases are
//! never touched.

mod common;
use common::*;

fn engine_of(setup: Setup) -> &'static str {
    if setup.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    }
}

on_every_setup!(every_sample_context_passes_and_a_forgotten_index_is_named);
fn every_sample_context_passes_and_a_forgotten_index_is_named(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&["acme"]);
    let before = tables(&s.tenant_db("acme"));
    let engine = engine_of(setup);
    for context in ["user_management", "digital_card", "calendar", "billing"] {
        let run = s
            .estate(&["test", context, "--engine", engine, "--json"])
            .expect(0);
        let report = run.json();
        assert_eq!(report["passed"], true, "{context}: {report}");
        assert!(!report["runs"].as_array().unwrap().is_empty(), "{context}");
    }
    // 0002 makes an index its down forgets.
    manifest(&s, "leaky", "leaky", "");
    migration_pair(
        &s,
        "leaky",
        "tenant",
        "0001_create_notes",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
        "DROP TABLE notes;\n",
    );
    migration_pair(
        &s,
        "leaky",
        "tenant",
        "0002_index_notes",
        "CREATE INDEX notes_body ON notes (body);\n",
        "SELECT 1;\n",
    );
    let run = s.estate(&["test", "leaky", "--engine", engine]).expect(1);
    assert_has(&run.stdout, "✗ leaky tenant on");
    assert_has(&run.stdout, "the down of migration 2");
    assert_has(&run.stdout, "0002_index_notes");
    assert_has(&run.stdout, "left behind: index notes_body");
    assert_eq!(
        tables(&s.tenant_db("acme")),
        before,
        "no tenant of the fleet was touched"
    );
}
