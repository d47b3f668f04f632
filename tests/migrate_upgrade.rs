//! Upgrading installed modules: a new migration file makes a module `outdated` on every tenant
//! that has it, and `migrate` applies exactly the new migrations, by scope, and nothing else.
//! Each scenario runs on SQLite and on both PostgreSQL layouts (`common::Setup`).

mod common;
use common::*;

use serde_json::{Value, json};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

/// Three tenants with calendar (and so user_management) installed on all of them.
fn calendar_everywhere(setup: Setup) -> Scratch {
    let s = with_tenants(setup, &TENANTS);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    s
}

/// Adds calendar's landlord migration 0002, which adds `calendar_global_config.note`.
fn add_landlord_note_migration(s: &Scratch) {
    migration_pair(
        s,
        "calendar",
        "landlord",
        "0002_add_note_to_calendar_global_config",
        "ALTER TABLE calendar_global_config ADD COLUMN note TEXT;\n",
        "ALTER TABLE calendar_global_config DROP COLUMN note;\n",
    );
}

/// The ledger (with batches) of every tenant in `TENANTS`, in that order.
fn tenant_ledgers(s: &Scratch) -> Vec<Vec<(String, String, i64, i64)>> {
    TENANTS
        .iter()
        .map(|t| ledger_batches(&s.tenant_db(t)))
        .collect()
}

on_every_setup!(a_new_tenant_migration_makes_calendar_outdated_and_migrate_applies_only_it);
fn a_new_tenant_migration_makes_calendar_outdated_and_migrate_applies_only_it(setup: Setup) {
    let s = calendar_everywhere(setup);
    assert_state_on(&s, &TENANTS, "calendar", st("installed", 4, 0));

    add_color_migration(&s);
    let status = s.estate_json(&["status", "--json"]);
    for t in TENANTS {
        assert_eq!(state(&status, t, "calendar"), st("outdated", 4, 1), "{t}");
        assert_eq!(
            state(&status, t, "user_management"),
            st("installed", 3, 0),
            "{t}"
        );
        assert_eq!(
            state(&status, t, "digital_card"),
            st("not_installed", 0, 0),
            "{t}"
        );
    }
    let human = s.estate(&["status"]).expect(0);
    assert_eq!(
        human.stdout.matches("1 pending").count(),
        3,
        "{}",
        human.stdout
    );
    assert_matrix_matches_status(&s);

    let before = tenant_ledgers(&s);
    let landlord_before = ledger_batches(&s.landlord());

    s.estate_summary(
        &["migrate", "calendar", "--all"],
        0,
        "upgrade: 3 succeeded, 0 failed, 0 skipped; 3 migrations",
    );

    for (i, t) in TENANTS.iter().enumerate() {
        let db = s.tenant_db(t);
        let after = ledger_batches(&db);
        assert_eq!(after.len(), before[i].len() + 1, "{t}: {after:?}");
        assert_eq!(after[..before[i].len()], before[i][..], "{t}");
        let new = after.last().unwrap();
        assert_eq!(
            (new.0.as_str(), new.1.as_str(), new.2),
            ("calendar", "tenant", 4)
        );
        let max_before = before[i].iter().map(|r| r.3).max().unwrap();
        assert!(new.3 > max_before, "{t}: batch {} not new", new.3);
        assert!(has_color(&db), "{t}");
        let row = query(
            &db,
            "SELECT description, length(checksum), applied_by FROM estate_ledger \
             WHERE context = 'calendar' AND version = 4",
        );
        assert_eq!(row[0][0], "add color to events");
        assert_eq!(row[0][1], "64");
        assert!(row[0][2].contains("tester"));
    }
    assert_eq!(
        ledger_batches(&s.landlord()),
        landlord_before,
        "landlord ledger changed"
    );

    assert_state_on(&s, &TENANTS, "calendar", st("installed", 5, 0));

    // History: one upgrade row per tenant, migration 4 only.
    let hist = s.estate_json(&["history", "--json"]);
    let mut upgrades: Vec<(String, String, String)> = hist
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "upgrade")
        .map(|r| {
            assert_eq!(r["module"], "calendar");
            assert_eq!(r["scope"], "tenant");
            assert_eq!(r["operator"], "tester");
            (
                r["tenant"].as_str().unwrap().to_string(),
                r["migrations"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    upgrades.sort();
    let want: Vec<_> = TENANTS
        .iter()
        .map(|t| (t.to_string(), "4".to_string(), "succeeded".to_string()))
        .collect();
    assert_eq!(upgrades, want);

    // A second migrate has nothing to do and touches nothing.
    let snap = s.snapshot();
    let again = s.estate(&["migrate", "calendar", "--all"]).expect(0);
    assert_has(&again.stdout, "nothing to do");
    assert!(s.snapshot() == snap, "a no-op migrate changed a database");
    let again = s.estate(&["migrate"]).expect(0);
    assert_has(&again.stdout, "nothing to do");
    let json = s.estate_json(&["migrate", "--json"]);
    assert_eq!(json["plan"]["tenant_steps"], json!({}));
    assert_eq!(json["plan"]["landlord"], json!([]));
    assert!(s.snapshot() == snap, "a no-op migrate changed a database");
}

on_every_setup!(migrate_json_reports_each_applied_migration);
fn migrate_json_reports_each_applied_migration(setup: Setup) {
    let s = calendar_everywhere(setup);
    add_color_migration(&s);

    let snap = s.snapshot();
    let dry = s.estate_json(&["migrate", "calendar", "--all", "--dry-run", "--json"]);
    assert!(s.snapshot() == snap, "migrate --dry-run changed a database");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["plan"]["action"], "upgrade");
    assert_eq!(dry["plan"]["landlord"], json!([]));
    let steps = dry["plan"]["tenant_steps"].as_object().unwrap();
    assert_eq!(
        steps.keys().collect::<Vec<_>>(),
        ["acme", "globex", "initech"]
    );
    for (t, st) in steps {
        let st = st.as_array().unwrap();
        assert_eq!(st.len(), 1, "{t}");
        assert_eq!(st[0]["module"], "calendar");
        assert_eq!(versions(&st[0]["migrations"]), [4], "{t}");
    }

    let run = s.estate_json(&["migrate", "calendar", "--all", "--json"]);
    assert_eq!(run["dry_run"], false);
    let steps = run["report"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{:#}", run["report"]);
    let mut applied: Vec<(String, i64, String)> = Vec::new();
    for step in steps {
        assert_eq!(step["outcome"], "succeeded", "{step}");
        assert_eq!(step["module"], "calendar");
        assert_eq!(step["action"], "upgrade");
        for m in step["migrations"].as_array().unwrap() {
            applied.push((
                step["tenant"].as_str().unwrap().to_string(),
                m["version"].as_i64().unwrap(),
                m["direction"].as_str().unwrap().to_string(),
            ));
        }
    }
    applied.sort();
    assert_eq!(
        applied,
        TENANTS
            .iter()
            .map(|t| (t.to_string(), 4, "up".to_string()))
            .collect::<Vec<_>>()
    );
}

on_every_setup!(migrate_by_scope_and_by_tenant);
fn migrate_by_scope_and_by_tenant(setup: Setup) {
    let s = calendar_everywhere(setup);
    add_landlord_note_migration(&s);
    add_color_migration(&s);

    assert_state_on(&s, &TENANTS, "calendar", st("outdated", 4, 2));

    // --scope landlord --dry-run: only the landlord step.
    let snap = s.snapshot();
    let dry = s.estate_json(&["migrate", "--scope", "landlord", "--dry-run", "--json"]);
    assert_eq!(dry["plan"]["tenant_steps"], json!({}));
    let landlord = dry["plan"]["landlord"].as_array().unwrap();
    assert_eq!(landlord.len(), 1);
    assert_eq!(landlord[0]["module"], "calendar");
    assert_eq!(landlord[0]["migrations"][0]["version"], 2);
    assert!(s.snapshot() == snap);

    // --scope tenant, one tenant: only acme's events change.
    let landlord_before = ledger_batches(&s.landlord());
    s.estate(&[
        "migrate", "calendar", "--scope", "tenant", "--tenant", "acme",
    ])
    .expect(0);
    assert_eq!(ledger_batches(&s.landlord()), landlord_before);
    assert!(!has_column(&s.landlord(), "calendar_global_config", "note"));
    assert!(has_color(&s.tenant_db("acme")));
    for t in ["globex", "initech"] {
        assert!(!has_color(&s.tenant_db(t)), "{t}");
        assert!(
            !ledger_batches(&s.tenant_db(t)).iter().any(|r| r.2 == 4),
            "{t}"
        );
    }
    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("outdated", 5, 1)),
            ("globex", "calendar", st("outdated", 4, 2)),
        ],
    );

    // --scope tenant for everyone: the other two tenants, still not the landlord.
    s.estate_summary(
        &["migrate", "calendar", "--scope", "tenant"],
        0,
        "upgrade: 2 succeeded, 0 failed, 0 skipped; 2 migrations",
    );
    assert_eq!(ledger_batches(&s.landlord()), landlord_before);
    for t in TENANTS {
        assert!(has_color(&s.tenant_db(t)), "{t}");
    }
    assert_state_on(&s, &TENANTS, "calendar", st("outdated", 5, 1));

    // --scope landlord: the landlord migration only, the tenants untouched.
    let tenants_before = tenant_ledgers(&s);
    s.estate_summary(
        &["migrate", "calendar", "--scope", "landlord"],
        0,
        "upgrade: 1 succeeded, 0 failed, 0 skipped; 1 migration",
    );
    let after = tenant_ledgers(&s);
    assert_eq!(after, tenants_before);
    let landlord = ledger_batches(&s.landlord());
    assert_eq!(landlord.len(), landlord_before.len() + 1);
    let new = landlord.last().unwrap();
    assert_eq!(
        (new.0.as_str(), new.1.as_str(), new.2),
        ("calendar", "landlord", 2)
    );
    assert!(has_column(&s.landlord(), "calendar_global_config", "note"));
    let hist = s.estate_json(&["history", "calendar", "--json"]);
    let last = hist.as_array().unwrap().last().unwrap();
    assert_eq!(last["tenant"], Value::Null);
    assert_eq!(last["scope"], "landlord");
    assert_eq!(last["action"], "upgrade");
    assert_eq!(last["migrations"], "2");

    assert_state_on(&s, &TENANTS, "calendar", st("installed", 6, 0));
    let again = s.estate(&["migrate"]).expect(0);
    assert_has(&again.stdout, "nothing to do");
}

on_every_setup!(migrate_leaves_modules_that_are_not_installed_alone);
fn migrate_leaves_modules_that_are_not_installed_alone(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    add_color_migration(&s);
    migration_pair(
        &s,
        "digital_card",
        "tenant",
        "0006_add_logo_to_card_templates",
        "ALTER TABLE card_templates ADD COLUMN logo_url VARCHAR(2048);\n",
        "ALTER TABLE card_templates DROP COLUMN logo_url;\n",
    );

    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("outdated", 4, 1)),
            ("globex", "calendar", st("not_installed", 0, 0)),
            ("acme", "digital_card", st("not_installed", 0, 0)),
        ],
    );

    let globex_before = content(&s.tenant_db("globex"));
    let run = s.estate_json(&["migrate", "--json"]);
    let steps = run["plan"]["tenant_steps"].as_object().unwrap();
    assert_eq!(steps.keys().collect::<Vec<_>>(), ["acme"]);
    assert_eq!(pluck(&steps["acme"], "module"), ["calendar"]);
    assert_eq!(run["plan"]["landlord"], json!([]));

    assert_eq!(
        content(&s.tenant_db("globex")),
        globex_before,
        "migrate touched a tenant with nothing installed"
    );
    assert!(!has_table(&s.tenant_db("acme"), "card_templates"));
    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("installed", 5, 0)),
            ("acme", "digital_card", st("not_installed", 0, 0)),
        ],
    );

    // An unknown module or tenant is refused.
    let snap = s.snapshot();
    s.estate(&["migrate", "nosuch"]).expect(2);
    s.estate(&["migrate", "calendar", "--tenant", "nosuch"])
        .expect(2);
    assert!(s.snapshot() == snap);
}

on_every_setup!(a_changed_applied_migration_is_refused_naming_file_and_checksums);
fn a_changed_applied_migration_is_refused_naming_file_and_checksums(setup: Setup) {
    let s = calendar_everywhere(setup);
    let old = query(
        &s.tenant_db("acme"),
        "SELECT checksum FROM estate_ledger WHERE context = 'calendar' AND version = 3",
    )[0][0]
        .clone();
    let path = s.path("contexts/calendar/migrations/tenant/0003_add_location_to_events.up.sql");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("-- an edit after the fact\n");
    std::fs::write(&path, text).unwrap();
    add_color_migration(&s);

    let snap = s.snapshot();
    let r = s.estate(&["migrate", "calendar", "--all"]).expect(2);
    assert_has(&r.stderr, "0003_add_location_to_events.up.sql");
    assert_has(&r.stderr, &old);
    assert!(s.snapshot() == snap, "a refused migrate changed a database");

    // CRLF line endings are not a change.
    let path = s.path("contexts/calendar/migrations/tenant/0003_add_location_to_events.up.sql");
    let original = std::fs::read_to_string(
        repo_contexts().join("calendar/migrations/tenant/0003_add_location_to_events.up.sql"),
    )
    .unwrap();
    std::fs::write(&path, original.replace('\n', "\r\n")).unwrap();
    s.estate(&["migrate", "calendar", "--all"]).expect(0);
    for t in TENANTS {
        assert!(has_color(&s.tenant_db(t)), "{t}");
    }
}
