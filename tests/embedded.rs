//! estate embedded in a user's own binary (examples/embedded): its Rust migrator for `audit`
//! serves every command and the console, including the projects the console opens again (on
//! reload) and the repair of a killed job at start; the plain `estate` binary, on the same
//! project, lists `audit` and refuses to run it, naming the binary that can.

mod common;
use common::*;

/// `estate ARGS` (the plain binary) on the embedded example's project.
fn plain_estate(s: &Scratch, args: &[&str]) -> Run {
    let estate = std::path::Path::new(env!("CARGO_BIN_EXE_estate"));
    Run::from(s.command_of(estate, args).output().unwrap())
}

fn module_names(modules: &serde_json::Value) -> Vec<&str> {
    modules
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect()
}

#[test]
fn the_embedded_binary_installs_and_rolls_back_its_rust_migrated_context() {
    let s = Scratch::embedded();
    s.estate(&["check"]).expect(0);
    s.add_tenants(&["acme"]);
    let modules = s.estate_json(&["modules", "--json"]);
    assert_eq!(
        module_names(&modules),
        [
            "audit",
            "billing",
            "calendar",
            "digital_card",
            "user_management"
        ]
    );

    let run = s
        .estate(&["install", "audit", "--tenant", "acme"])
        .expect(0);
    assert_has(&run.stdout, "user_management added: required by audit");
    assert_has(
        &run.stdout,
        "2 migrations: 0001 create audit events, 0002 index events by actor",
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "audit"), st("installed", 2, 0));
    assert_eq!(
        state(&status, "acme", "user_management"),
        st("installed", 3, 0)
    );
    let acme = s.tenant_db("acme");
    assert!(has_table(&acme, "audit_events"));
    assert_eq!(
        first_column(
            &acme,
            "SELECT version FROM estate_ledger WHERE context = 'audit' ORDER BY version"
        ),
        ["1", "2"]
    );
    // The binary that has the migrator judges its tables: nothing is reported as made by hand.
    s.estate(&["verify"]).expect(0);

    // The plain binary, on the same project: audit is listed and shown installed, verify
    // leaves it to `embedded`, and anything that would run it is refused, naming that binary.
    let plain = plain_estate(&s, &["modules", "--json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(module_names(&plain.json()).contains(&"audit"));
    let check = plain_estate(&s, &["check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_has(
        &check.stderr,
        "audit's migrator is Rust code in the binary `embedded`",
    );
    let verify = plain_estate(&s, &["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert_has(&verify.stdout, "known only to the binary `embedded`");
    let before = s.snapshot();
    for args in [
        ["install", "audit", "--tenant", "acme"],
        ["rollback", "audit", "--tenant", "acme"],
    ] {
        let refused = plain_estate(&s, &args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.stderr);
        assert_has(&refused.stderr, "Rust code in the binary `embedded`");
        assert_has(&refused.stderr, "fix: run the binary `embedded`");
    }
    assert_eq!(s.snapshot(), before, "a refusal changes nothing");

    let run = s
        .estate(&["rollback", "audit", "--tenant", "acme"])
        .expect(0);
    assert_has(&run.stderr, "reverted 0001 create audit events");
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "audit"), st("not_installed", 0, 0));
    assert!(!has_table(&acme, "audit_events"));
    assert!(has_table(&acme, "user_profiles"));
    s.estate(&["verify"]).expect(0);
}

#[test]
fn in_the_console_audit_stays_installable_after_a_reload_and_a_killed_jobs_repair() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::embedded();
    s.add_tenants(&["acme", "globex"]);
    // A job whose registry writes all fail, as a job killed between its tenants' commits and
    // the registry's: globex's ledger has audit, the registry has nothing of it, and the job's
    // row still says running. The next estate to start repairs the rows from the ledgers.
    exec(
        &s.landlord(),
        "CREATE TRIGGER refuse BEFORE INSERT ON estate_tenant_modules BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    );
    s.estate(&["install", "audit", "--tenant", "globex"]);
    exec(&s.landlord(), "DROP TRIGGER refuse");
    assert_eq!(
        first_column(&s.landlord(), "SELECT state FROM estate_jobs"),
        ["running"]
    );
    assert!(first_column(&s.landlord(), "SELECT module FROM estate_tenant_modules").is_empty());

    let tmux = Tmux::start(&s, 110, 30);
    tmux.wait_for("the Modules view", |sc| {
        sc.contains("Modules (5)") && sc.contains("audit")
    });
    // The repair at start read globex's ledger through the Rust migrator: installed.
    tmux.keys(&["3"]);
    tmux.wait_for("globex's audit repaired", |sc| {
        sc.lines()
            .any(|l| l.contains("globex") && l.matches("✓ installed").count() == 2)
    });
    assert_eq!(
        first_column(&s.landlord(), "SELECT state FROM estate_jobs"),
        ["interrupted"]
    );

    // Reloaded, the project the console opens again still has the Rust migrator: audit is
    // planned and installed for acme.
    tmux.keys(&["C-r"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    tmux.keys(&["Space", "i"]);
    let plan = tmux.wait_for("the plan", |sc| sc.contains("Confirm"));
    assert!(plan.contains("install audit"), "{plan}");
    tmux.keys(&["y", "4"]);
    let jobs = tmux.wait_for("the job to finish", |sc| {
        sc.contains("succeeded: 1/1 tenants")
    });
    assert!(
        jobs.contains("job finished: 2 succeeded, 0 failed, 0 skipped"),
        "{jobs}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", |sc| sc.contains("estate exited 0"));

    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "audit"), st("installed", 2, 0), "{t}");
        assert!(has_table(&s.tenant_db(t), "audit_events"), "{t}");
    }
    s.estate(&["verify"]).expect(0);
}
