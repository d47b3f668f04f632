//! `estate demo` on the embedded default, and the JSON contract scripts rely on: every `--json`
//! command prints one JSON document on stdout and nothing else; `status --json` rows have
//! exactly the documented keys and states; `modules --json` shows requires and required-by.
//! The demo is the embedded default's, so it runs on SQLite only; the JSON contract is checked
//! on every setup (`common::Setup`).

mod common;
use common::*;

use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The matrix printed by `demo` / `status`: from the header line to the legend.
fn matrix(out: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("TENANT"))
        .unwrap_or_else(|| panic!("no matrix header in:\n{out}"));
    lines[start..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim_end().to_string())
        .collect()
}

const STATES: [&str; 4] = ["installed", "outdated", "failed", "not_installed"];
const MODULES: [&str; 4] = ["billing", "calendar", "digital_card", "user_management"];

#[test]
fn demo_creates_three_tenants_with_a_mix_and_is_idempotent() {
    let s = Scratch::new();
    let first = s.estate(&["demo"]).expect(0);
    let m = matrix(&first.stdout);
    assert!(
        m[0].contains("billing") && m[0].contains("user_management"),
        "{m:?}"
    );
    for t in ["acme", "globex", "initech"] {
        assert!(
            m.iter().any(|l| l.starts_with(t)),
            "no {t} row in the matrix:\n{}",
            first.stdout
        );
    }
    for t in ["acme", "globex", "initech"] {
        assert!(s.tenant_db(t).exists(), "{t}");
    }

    let list = s.estate_json(&["tenants", "list", "--json"]);
    assert_eq!(pluck(&list, "slug"), ["acme", "globex", "initech"]);

    // A mix: every tenant has something, no tenant has everything, no failures.
    let status = s.estate_json(&["status", "--json"]);
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 12);
    for t in ["acme", "globex", "initech"] {
        let installed: Vec<&str> = rows
            .iter()
            .filter(|r| r["tenant"] == t && r["state"] == "installed")
            .map(|r| r["module"].as_str().unwrap())
            .collect();
        assert!(installed.contains(&"user_management"), "{t}: {installed:?}");
        assert!(installed.len() >= 2, "{t}: {installed:?}");
        assert!(installed.len() < 4, "{t}: {installed:?}");
    }
    assert!(rows.iter().all(|r| r["state"] != "failed"), "{status:#}");
    let distinct: BTreeSet<String> = ["acme", "globex", "initech"]
        .iter()
        .map(|t| {
            rows.iter()
                .filter(|r| r["tenant"] == *t && r["state"] == "installed")
                .map(|r| r["module"].as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert!(distinct.len() >= 2, "the demo tenants all look alike");
    // The matrix agrees with status.
    let status_human = s.estate(&["status"]).expect(0);
    assert_eq!(matrix(&status_human.stdout), m);

    // Again: exit 0, same matrix, same status, no new work recorded.
    let history = s.estate_json(&["history", "--json"]);
    let second = s.estate(&["demo"]).expect(0);
    assert_eq!(matrix(&second.stdout), m);
    assert_eq!(s.estate_json(&["status", "--json"]), status);
    assert_eq!(s.estate_json(&["history", "--json"]), history);
    let list2 = s.estate_json(&["tenants", "list", "--json"]);
    assert_eq!(list2, list);
}

on_every_setup!(status_json_rows_have_exactly_the_documented_keys_and_states);
fn status_json_rows_have_exactly_the_documented_keys_and_states(setup: Setup) {
    let s = with_tenants(setup, &["acme", "globex", "initech"]);
    s.estate(&["install", "calendar", "--tenant", "acme,initech"])
        .expect(0);
    s.estate(&["install", "billing", "--tenant", "globex"])
        .expect(0);
    // calendar 0004: initech already has a `color` column, so it fails there only.
    add_color_migration(&s);
    exec(
        &s.tenant_db("initech"),
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);",
    );
    s.estate(&["migrate", "calendar"]).expect(1);
    // billing 0003: globex's billing becomes outdated.
    migration_pair(
        &s,
        "billing",
        "tenant",
        "0003_add_notes_to_invoices",
        "ALTER TABLE invoices ADD COLUMN notes TEXT;\n",
        "ALTER TABLE invoices DROP COLUMN notes;\n",
    );

    let run = s.estate(&["status", "--json"]).expect(0);
    let status = run.json();
    let rows = status.as_array().expect("an array");
    let keys: BTreeSet<&str> = ["tenant", "module", "state", "applied", "pending"].into();
    for r in rows {
        let obj = r.as_object().expect("each row is an object");
        assert_eq!(
            obj.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            keys,
            "{r}"
        );
        assert!(STATES.contains(&r["state"].as_str().unwrap()), "{r}");
        assert!(r["applied"].as_u64().is_some(), "{r}");
        assert!(r["pending"].as_u64().is_some(), "{r}");
        if r["state"] == "not_installed" {
            assert_eq!(
                (r["applied"].clone(), r["pending"].clone()),
                (json!(0), json!(0))
            );
        }
        if r["state"] == "outdated" {
            assert!(r["pending"].as_u64().unwrap() > 0, "{r}");
        }
        if r["state"] == "installed" {
            assert_eq!(r["pending"], 0, "{r}");
        }
    }
    // Every tenant × module, in order.
    let order: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["tenant"].as_str().unwrap().to_string(),
                r["module"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = Vec::new();
    for t in ["acme", "globex", "initech"] {
        for m in MODULES {
            want.push((t.to_string(), m.to_string()));
        }
    }
    assert_eq!(order, want);

    assert_states(
        &status,
        &[
            ("acme", "calendar", st("installed", 5, 0)),
            ("initech", "calendar", st("failed", 4, 1)),
            ("globex", "billing", st("outdated", 2, 1)),
            ("globex", "calendar", st("not_installed", 0, 0)),
        ],
    );
    let seen: BTreeSet<&str> = rows.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(seen, STATES.into_iter().collect());

    // --tenant narrows the rows to that tenant.
    let one = s.estate_json(&["status", "--tenant", "globex", "--json"]);
    assert_eq!(
        one.as_array().unwrap().as_slice(),
        &rows[4..8],
        "status --tenant globex"
    );
}

/// stdout must be exactly one JSON document: nothing before it, nothing after it.
fn only_json(s: &Scratch, args: &[&str], code: i32) -> Value {
    let run = s.estate(args).expect(code);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "`estate {}` printed more than JSON ({e}):\n{}",
            args.join(" "),
            run.stdout
        )
    });
    assert!(
        run.stdout.trim_start().starts_with(['{', '[']),
        "{}",
        run.stdout
    );
    v
}

on_every_setup!(every_json_command_prints_only_json);
fn every_json_command_prints_only_json(setup: Setup) {
    let s = Scratch::with(setup);
    // On an empty project first: the registry made, with nothing in it.
    assert_eq!(only_json(&s, &["init", "--json"], 0)["created"], true);
    assert!(only_json(&s, &["tenants", "list", "--json"], 0).is_array());
    assert!(only_json(&s, &["status", "--json"], 0).is_array());
    assert!(only_json(&s, &["history", "--json"], 0).is_array());

    s.add_tenants(&["acme", "globex"]);

    let checks: [&[&str]; 4] = [
        &["modules", "--json"],
        &["tenants", "list", "--json"],
        &["status", "--json"],
        &["check", "--json"],
    ];
    for args in checks {
        only_json(&s, args, 0);
    }
    let snap = s.snapshot();
    let dry = only_json(
        &s,
        &[
            "install",
            "digital_card",
            "--tenant",
            "acme",
            "--dry-run",
            "--json",
        ],
        0,
    );
    assert_eq!(dry["dry_run"], true);
    assert!(s.snapshot() == snap);

    let run = only_json(&s, &["install", "digital_card", "--all", "--json"], 0);
    assert_eq!(run["dry_run"], false);
    assert_eq!(run["report"]["steps"].as_array().unwrap().len(), 6);

    let hist = only_json(&s, &["history", "--json"], 0);
    assert_eq!(hist.as_array().unwrap().len(), 6);
    only_json(
        &s,
        &["history", "digital_card", "--tenant", "acme", "--json"],
        0,
    );
    only_json(&s, &["migrate", "--json"], 0);
    only_json(&s, &["migrate", "--dry-run", "--json"], 0);
    only_json(
        &s,
        &["rollback", "digital_card", "--all", "--dry-run", "--json"],
        0,
    );
    let rb = only_json(&s, &["rollback", "digital_card", "--all", "--json"], 0);
    assert_eq!(rb["plan"]["action"], "rollback");

    // A partial failure still prints only JSON (and exits 1).
    migration_pair(
        &s,
        "user_management",
        "tenant",
        "0003_broken",
        "ALTER TABLE nowhere ADD COLUMN x INTEGER;\n",
        "SELECT 1;\n",
    );
    let failed = only_json(&s, &["migrate", "--json"], 1);
    assert_eq!(
        pluck(&failed["report"]["steps"], "outcome"),
        ["failed", "failed"]
    );
}

on_every_setup!(modules_json_shows_requires_and_required_by);
fn modules_json_shows_requires_and_required_by(setup: Setup) {
    let s = Scratch::with(setup);
    s.estate(&["init"]).expect(0);
    let modules = only_json(&s, &["modules", "--json"], 0);
    let list = modules.as_array().unwrap();
    assert_eq!(pluck(&modules, "name"), MODULES);
    let get = |n: &str| list.iter().find(|m| m["name"] == n).unwrap().clone();

    let dc = get("digital_card");
    assert_eq!(dc["requires"], json!(["user_management"]));
    assert_eq!(dc["required_by"], json!([]));
    assert_eq!(dc["version"], "1.2.0");
    assert_eq!(dc["migrations"], json!({"landlord": 1, "tenant": 5}));

    let um = get("user_management");
    assert_eq!(um["requires"], json!([]));
    assert_eq!(
        um["required_by"],
        json!(["billing", "calendar", "digital_card"])
    );
    assert_eq!(um["migrations"], json!({"landlord": 1, "tenant": 2}));

    assert_eq!(get("calendar")["requires"], json!(["user_management"]));
    assert_eq!(
        get("calendar")["migrations"],
        json!({"landlord": 1, "tenant": 3})
    );
    assert_eq!(get("billing")["requires"], json!(["user_management"]));
    assert_eq!(
        get("billing")["migrations"],
        json!({"landlord": 0, "tenant": 2})
    );
    for m in list {
        assert_eq!(m["tenants"], 0, "{m}");
    }

    // The human table says the same.
    let human = s.estate(&["modules"]).expect(0);
    let um_line = line_starting(&human.stdout, "user_management");
    assert_has(um_line, "billing, calendar, digital_card");

    // After an install, the tenant count follows.
    s.estate(&["tenants", "add", "acme"]).expect(0);
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    let modules = only_json(&s, &["modules", "--json"], 0);
    let count = |n: &str| {
        modules
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .unwrap()["tenants"]
            .clone()
    };
    assert_eq!(count("digital_card"), 1);
    assert_eq!(count("user_management"), 1);
    assert_eq!(count("calendar"), 0);
}

on_every_setup!(check_json_on_the_sample_contexts_is_clean);
fn check_json_on_the_sample_contexts_is_clean(setup: Setup) {
    let s = Scratch::with(setup);
    let check = only_json(&s, &["check", "--json"], 0);
    assert_eq!(check["ok"], true);
    assert_eq!(check["problems"], json!([]));
    assert_eq!(check["contexts"], 4);
    assert_eq!(check["migrations"], 15);
}
