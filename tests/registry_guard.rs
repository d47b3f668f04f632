//! The registry protected: a landlord database missing where one existed (tenant databases
//! where the tenancy templates put them, a log of earlier jobs) is never silently replaced by an
//! empty registry. Every command refuses it with the fix (exit 2) and creates nothing, not a
//! file, not a lock, not a log; only `estate init --force` starts a new registry over it, and
//! `verify` then names the tenant databases no registry row names. On a new project only
//! `init`, the first `tenants add` and `demo` create the registry. Each scenario that can runs
//! on SQLite and on both PostgreSQL layouts.

mod common;
use common::*;

/// Runs `args`, expects exit 2, the problem and the fix on stderr, and nothing changed at all.
fn refused_leaving_no_trace(s: &Scratch, args: &[&str]) -> String {
    let files = s.var_files();
    let databases = s.snapshot();
    let run = s.estate(args).expect(2);
    assert_has(&run.stderr, "error: ");
    assert_has(&run.stderr, "\n  fix: ");
    assert!(
        s.var_files() == files,
        "estate {args:?} changed files under var/ (logs and locks included)"
    );
    assert!(
        s.snapshot() == databases,
        "estate {args:?} changed a database"
    );
    run.stderr
}

on_every_setup!(a_deleted_landlord_is_refused_by_every_command_and_init_force_starts_anew);
fn a_deleted_landlord_is_refused_by_every_command_and_init_force_starts_anew(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let (acme, globex) = (s.placement("acme"), s.placement("globex"));
    s.remove_landlord();
    assert!(!s.landlord().exists());

    for args in [
        &["status"][..],
        &["status", "--json"],
        &["tenants", "list"],
        &["modules"],
        &["history"],
        &["verify"],
        &["install", "calendar", "--all"],
        &["migrate", "--all"],
        &["rollback", "calendar", "--tenant", "acme", "--yes"],
        &["tenants", "add", "initech"],
        &["demo"],
        &["init"],
        &["--read-only", "status"],
    ] {
        let err = refused_leaving_no_trace(&s, args);
        let what = format!("estate {args:?}:\n{err}");
        assert!(err.contains("does not exist"), "{what}");
        assert!(err.contains("but an earlier registry existed"), "{what}");
        assert!(
            err.contains(&format!("2 tenant databases ({acme}, {globex})")),
            "{what}"
        );
        assert!(
            err.contains("restore the landlord database from a backup"),
            "{what}"
        );
        assert!(err.contains("`estate init --force`"), "{what}");
        assert!(!s.landlord().exists(), "{what}");
    }

    // A new registry only when asked for by name: it says what it was created over.
    let run = s.estate(&["init", "--force"]).expect(0);
    assert_has(&run.stdout, "created the registry");
    assert_has(&run.stderr, "warning: --force");
    assert_has(&run.stderr, &acme);
    assert!(s.landlord().exists());
    assert_eq!(
        s.estate_json(&["tenants", "list", "--json"]),
        serde_json::json!([])
    );
    // The tenant databases are as they were, and verify names each one no row names.
    assert!(has_table(&s.tenant_db("acme"), "events"));
    let run = s.estate(&["verify", "--json"]).expect(1);
    let findings = run.json()["findings"].clone();
    let unregistered: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unregistered_database")
        .map(|f| f["database"].as_str().unwrap())
        .collect();
    assert_eq!(unregistered, ["acme", "globex"], "{findings:#}");
    let human = s.estate(&["verify"]).expect(1).stdout;
    assert_has(&human, &format!("a tenant database ({acme}) is there"));
    assert_has(&human, "restore the landlord from a backup that has it");
}

#[test]
fn a_new_project_gets_its_registry_from_init_and_init_refuses_an_existing_one() {
    let s = Scratch::new();
    // No registry, and nothing showing one existed: refused, with the commands that start one.
    for args in [
        &["status"][..],
        &["modules"],
        &["install", "calendar", "--all"],
    ] {
        let err = refused_leaving_no_trace(&s, args);
        assert_has(&err, "does not exist: there is no registry yet");
        assert_has(&err, "`estate init` creates it");
        assert_has(&err, "`estate tenants add SLUG`");
    }
    let err = refused_leaving_no_trace(&s, &["--read-only", "tenants", "list"]);
    assert_has(&err, "run estate once without --read-only");
    assert!(!s.path("var").exists(), "a refusal made var/");

    let run = s.estate(&["init"]).expect(0);
    assert_has(&run.stdout, "created the registry in the landlord database");
    assert!(s.path("var/landlord.db").is_file());
    assert_eq!(s.estate_json(&["status", "--json"]), serde_json::json!([]));

    // init again (with --force too) is bad input: refused, the registry left as it is.
    for args in [&["init"][..], &["init", "--force"]] {
        let before = s.snapshot();
        let err = s.estate(args).expect(2).stderr;
        assert_has(
            &err,
            "already holds a registry: there is nothing to initialise",
        );
        assert_has(&err, "fix: ");
        assert!(s.snapshot() == before, "estate {args:?} changed something");
    }
    s.add_tenants(&["acme"]);
}

#[test]
fn a_log_of_earlier_jobs_is_evidence_enough() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    // The registry and every tenant database gone: only the log says a project was here.
    s.remove_landlord();
    std::fs::remove_dir_all(s.path("var/tenants")).unwrap();
    let err = refused_leaving_no_trace(&s, &["tenants", "add", "acme"]);
    assert_has(
        &err,
        "but an earlier registry existed: jobs or tenants recorded in",
    );
    assert_has(&err, "var/log/estate.log");
    refused_leaving_no_trace(&s, &["init"]);
    s.estate(&["init", "--force"]).expect(0);
    s.add_tenants(&["acme"]);
}

#[test]
fn a_landlord_file_without_the_registry_is_refused_too() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    s.remove_landlord();
    s.write("var/landlord.db", "");
    let err = refused_leaving_no_trace(&s, &["status"]);
    assert_has(&err, "holds no registry, but an earlier registry existed");
}

#[test]
fn verify_names_a_tenant_file_no_registry_row_names() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    std::fs::copy(
        s.path("var/tenants/acme.db"),
        s.path("var/tenants/ghost.db"),
    )
    .unwrap();
    // Not a tenant database by the template: ignored.
    s.write("var/tenants/notes.txt", "x");
    let report = s.estate(&["verify", "--json"]).expect(1).json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["kind"], "unregistered_database");
    assert_eq!(findings[0]["database"], "ghost");
    assert_has(
        findings[0]["fix"].as_str().unwrap(),
        "remove the file (file var/tenants/ghost.db)",
    );
    // Verifying chosen tenants looks at those only.
    s.estate(&["verify", "--tenant", "acme"]).expect(0);
}
