//! `estate verify` finds each kind of drift planted by hand (a hand-applied table, an edited
//! migration file, a deleted one, a registry row deleted, a tenant database removed), names its
//! fix, and `--repair` restores what it safely can (the registry, from the ledgers) and nothing
//! else.

mod common;
use common::*;

use serde_json::Value;

/// (database, kind) of every finding.
fn kinds(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["database"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn pair(d: &str, k: &str) -> (String, String) {
    (d.to_string(), k.to_string())
}

on_every_setup!(verify_finds_each_planted_drift_and_repair_restores_the_registry);
fn verify_finds_each_planted_drift_and_repair_restores_the_registry(setup: Setup) {
    let s = with_tenants(setup, &["acme", "globex", "initech"]);
    s.estate(&["install", "calendar", "--tenant", "acme,globex"])
        .expect(0);
    s.estate(&["install", "billing", "--tenant", "globex"])
        .expect(0);

    let clean = s.estate(&["verify"]).expect(0);
    assert_has(&clean.stdout, "agree");
    assert_eq!(kinds(&s.estate(&["verify", "--json"]).expect(0).json()), []);

    // A table made by hand, a registry row deleted by hand, a tenant database removed, an
    // applied migration edited, another deleted.
    exec(&s.tenant_db("acme"), "CREATE TABLE hand_made (x INTEGER);");
    exec(
        &s.landlord(),
        "DELETE FROM estate_tenant_modules WHERE tenant = 'globex' AND module = 'billing'",
    );
    s.remove_tenant_database("initech");
    let dir = s.path("contexts/calendar/migrations/tenant");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let edited = files
        .iter()
        .find(|f| {
            let name = f.to_string_lossy();
            name.contains("0002_") && name.ends_with(".up.sql")
        })
        .unwrap();
    let mut sql = std::fs::read_to_string(edited).unwrap();
    sql.push_str("\n-- edited after it was applied\nSELECT 1;\n");
    std::fs::write(edited, sql).unwrap();
    for f in files
        .iter()
        .filter(|f| f.to_string_lossy().contains("0003_"))
    {
        std::fs::remove_file(f).unwrap();
    }

    let run = s.estate(&["verify", "--json"]).expect(1);
    let report = run.json();
    let found = kinds(&report);
    for want in [
        pair("acme", "unrecorded_table"),
        pair("acme", "changed_file"),
        pair("acme", "vanished_file"),
        pair("globex", "changed_file"),
        pair("globex", "registry_disagrees"),
        pair("initech", "missing_database"),
    ] {
        assert!(found.contains(&want), "{want:?} not in {found:?}");
    }
    for f in report["findings"].as_array().unwrap() {
        assert!(!f["fix"].as_str().unwrap().is_empty(), "{f}");
    }
    let human = s.estate(&["verify"]).expect(1);
    assert_has(&human.stdout, "hand_made");
    assert_has(&human.stdout, "fix:");
    assert_has(
        &human.stdout,
        "can be repaired with `estate verify --repair`",
    );

    // Read-only refuses the repair, changing nothing.
    let refused = s.estate(&["--read-only", "verify", "--repair"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        query(
            &s.landlord(),
            "SELECT module FROM estate_tenant_modules WHERE tenant = 'globex' AND module = 'billing'"
        )
        .is_empty()
    );

    // The repair puts the registry row back from the ledger, and nothing else.
    let repaired = s.estate(&["verify", "--repair", "--json"]).expect(1).json();
    assert_eq!(repaired["repaired"], 1, "{repaired}");
    let after = kinds(&repaired);
    assert!(
        !after.contains(&pair("globex", "registry_disagrees")),
        "{after:?}"
    );
    assert!(
        after.contains(&pair("acme", "unrecorded_table")),
        "{after:?}"
    );
    assert!(
        after.contains(&pair("initech", "missing_database")),
        "{after:?}"
    );
    assert!(
        has_table(&s.tenant_db("acme"), "hand_made"),
        "repair touched a tenant"
    );
    let row = query(
        &s.landlord(),
        "SELECT state, applied_version FROM estate_tenant_modules WHERE tenant = 'globex' AND module = 'billing'",
    );
    assert_eq!(row, vec![names(&["installed", "2"])]);
}
