//! Finer targets, on every setup: a module's landlord scope installed before any tenant
//! (`install --scope landlord`), and one module's scope moved to a version (`rollback --to`,
//! `migrate --to`), the module staying installed and the registry saying where it is.

mod common;
use common::*;

fn versions(db: &DbRef, context: &str, scope: &str) -> Vec<String> {
    first_column(
        db,
        &format!(
            "SELECT version FROM estate_ledger WHERE context = '{context}' AND scope = '{scope}' ORDER BY version"
        ),
    )
}

fn one_scope_moves_to_a_version(setup: Setup) {
    let s = Scratch::with(setup);
    s.estate(&["init"]).expect(0);
    // The landlord scope alone, no tenant needed.
    let run = s
        .estate(&["install", "calendar", "--scope", "landlord"])
        .expect(0);
    assert_has(&run.stdout, "Plan: install calendar on the landlord");
    assert_eq!(versions(&s.landlord(), "calendar", "landlord"), ["1"]);
    assert_eq!(
        versions(&s.landlord(), "user_management", "landlord"),
        ["1"]
    );

    s.add_tenants(&["acme", "globex"]);
    let run = s.estate(&["install", "calendar", "--all"]).expect(0);
    assert!(
        !run.stdout.contains("[landlord]"),
        "the landlord had it: {}",
        run.stdout
    );

    // Down to 1 on acme: 3 and 2 reverted, the module still installed there, 2 pending.
    let before = s.snapshot();
    let dry = s.estate(&[
        "rollback",
        "calendar",
        "--to",
        "1",
        "--scope",
        "tenant",
        "--tenant",
        "acme",
        "--dry-run",
    ]);
    assert_has(
        &dry.expect(0).stdout,
        "2 migrations: 0003 add location to events, 0002 create events",
    );
    assert_eq!(s.snapshot(), before, "a dry run changes nothing");
    let run = s
        .estate(&[
            "rollback", "calendar", "--to", "1", "--scope", "tenant", "--tenant", "acme", "--yes",
        ])
        .expect(0);
    assert_has(&run.stdout, "drops events");
    assert_eq!(versions(&s.tenant_db("acme"), "calendar", "tenant"), ["1"]);
    assert!(!has_table(&s.tenant_db("acme"), "events"));
    assert_eq!(
        versions(&s.tenant_db("globex"), "calendar", "tenant"),
        ["1", "2", "3"]
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "calendar"), st("outdated", 2, 2));
    assert_eq!(state(&status, "globex", "calendar"), st("installed", 4, 0));

    // Up to 2 only, then the rest with a plain migrate.
    s.estate(&["migrate", "calendar", "--to", "2", "--scope", "tenant"])
        .expect(0);
    assert_eq!(
        versions(&s.tenant_db("acme"), "calendar", "tenant"),
        ["1", "2"]
    );
    assert_eq!(
        state(&s.estate_json(&["status", "--json"]), "acme", "calendar"),
        st("outdated", 3, 1)
    );
    s.estate(&["migrate"]).expect(0);
    assert_state_on(&s, &["acme", "globex"], "calendar", st("installed", 4, 0));
    let history = s.estate_json(&["history", "calendar", "--tenant", "acme", "--json"]);
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["install", "rollback", "upgrade", "upgrade"]);
    s.estate(&["verify"]).expect(0);

    // Bad versions and shapes are refused, and change nothing.
    let before = s.snapshot();
    let refused: &[(&[&str], &str)] = &[
        (
            &[
                "rollback", "calendar", "--to", "9", "--scope", "tenant", "--all",
            ],
            "--to 9 is past calendar's latest tenant migration, 0003",
        ),
        (
            &["migrate", "calendar", "--to", "4", "--scope", "tenant"],
            "past calendar's latest",
        ),
        (
            &[
                "rollback", "calendar", "--to", "0", "--scope", "tenant", "--all",
            ],
            "roll it back without --to",
        ),
        (
            &["migrate", "calendar", "--to", "2"],
            "add --scope tenant or --scope landlord",
        ),
        (
            &[
                "migrate", "calendar", "billing", "--to", "2", "--scope", "tenant",
            ],
            "one module",
        ),
        (
            &["install", "calendar", "--scope", "landlord", "--all"],
            "leave out --tenant, --all and --where",
        ),
        (
            &["install", "calendar", "--scope", "tenant", "--all"],
            "--scope landlord",
        ),
        (
            &["install", "calendar"],
            "name them: --tenant SLUG, --all, or --where KEY=VALUE",
        ),
    ];
    for (args, problem) in refused {
        let run = s.estate(args).expect(2);
        assert_has(&run.stderr, problem);
    }
    assert_eq!(s.snapshot(), before, "a refusal changed something");
}

on_every_setup!(one_scope_moves_to_a_version);
