//! `estate check` on broken contexts: every problem is refused with exit status 2 and a message
//! that names the file (and for manifests, `context.toml:LINE:COL`) and the fix; several
//! problems are all listed in one run; the sample contexts pass.

mod common;
use common::*;

/// A context with a valid migration, so a broken one is not alone in the folder.
fn valid_context(s: &Scratch, name: &str) {
    manifest(s, name, name, "");
    migration_pair(
        s,
        name,
        "tenant",
        "0001_create_things",
        "CREATE TABLE things (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE things;\n",
    );
}

/// Runs `check`, expects exit status 2, and returns stderr.
fn refused(s: &Scratch) -> String {
    let run = s.estate(&["check"]).expect(2);
    assert!(run.stderr.contains("fix:"), "no fix in:\n{}", run.stderr);
    run.stderr
}

/// An otherwise empty project with one manifest (see `manifest`) and no migrations.
fn only_manifest(folder: &str, name: &str, extra: &str) -> Scratch {
    let s = Scratch::empty();
    manifest(&s, folder, name, extra);
    s
}

/// An otherwise empty project with a manifest for `billing` and no migrations yet.
fn billing_only() -> Scratch {
    only_manifest("billing", "billing", "")
}

/// Writes billing's tenant migration 0001_create_invoices.up.sql, with no .down.sql.
fn invoices_up_only(s: &Scratch) {
    migration(
        s,
        "billing",
        "tenant",
        "0001_create_invoices.up.sql",
        "CREATE TABLE invoices (id INTEGER);\n",
    );
}

/// `billing_only`, with tenant migration 0001_x whose up file is `up` (bytes, not UTF-8).
fn billing_with_a_non_utf8_up(up: &[u8]) -> Scratch {
    let s = billing_only();
    migration(&s, "billing", "tenant", "0001_x.down.sql", "SELECT 1;\n");
    migration(&s, "billing", "tenant", "0001_x.up.sql", up);
    s
}

/// The problems of `check --json`, each as (location, message).
fn json_problems(s: &Scratch) -> Vec<(String, String)> {
    let run = s.estate(&["check", "--json"]).expect(2);
    let v = run.json();
    assert_eq!(v["ok"], false, "{v}");
    v["problems"]
        .as_array()
        .expect("problems is an array")
        .iter()
        .map(|p| {
            assert!(
                !p["fix"].as_str().unwrap_or_default().is_empty(),
                "every problem has a fix: {p}"
            );
            (
                p["location"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_sample_contexts_are_valid() {
    let s = Scratch::new();
    let run = s.estate_summary(&["check"], 0, "ok: 4 contexts");
    assert!(!run.stderr.contains("fix:"), "{}", run.stderr);

    let run = s.estate(&["check", "--json"]).expect(0);
    let v = run.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["contexts"], 4, "{v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert!(v["migrations"].as_u64().unwrap() >= 13, "{v}");
}

#[test]
fn name_differing_from_its_folder() {
    let s = Scratch::empty();
    valid_context(&s, "fine");
    manifest(&s, "cards", "card", "");
    let err = refused(&s);
    assert_has(&err, "contexts/cards/context.toml:1:8");
    assert_has(&err, "name \"card\" differs from its folder \"cards\"");
    assert!(!err.contains("contexts/fine"), "{err}");
}

#[test]
fn bad_context_name() {
    let s = only_manifest("Card", "Card", "");
    let err = refused(&s);
    assert_has(&err, "contexts/Card/context.toml:1:8");
    assert_has(&err, "context name \"Card\" is not valid");
    assert_has(&err, "lowercase");
}

#[test]
fn unknown_key_in_a_manifest_names_the_key_and_its_line() {
    let s = Scratch::empty();
    valid_context(&s, "user_management");
    // `require` (a typo for `requires`) on line 4.
    manifest(
        &s,
        "digital_card",
        "digital_card",
        "require = [\"user_management\"]\n",
    );
    let err = refused(&s);
    assert_has(&err, "contexts/digital_card/context.toml:4:1");
    assert_has(&err, "`require`");
    assert_has(&err, "requires");

    // Moved to line 6, the message follows it.
    manifest(
        &s,
        "digital_card",
        "digital_card",
        "description = \"d\"\n\nrequire = [\"user_management\"]\n",
    );
    let err = refused(&s);
    assert_has(&err, "contexts/digital_card/context.toml:6:1");
}

#[test]
fn duplicate_version() {
    let s = billing_only();
    for f in [
        "0001_a.up.sql",
        "0001_a.down.sql",
        "1_b.up.sql",
        "1_b.down.sql",
    ] {
        migration(&s, "billing", "tenant", f, "SELECT 1;\n");
    }
    let err = refused(&s);
    assert_has(&err, "contexts/billing/migrations/tenant");
    assert_has(&err, "version 1 is used more than once");
    assert_has(&err, "0001_a.up.sql");
    assert_has(&err, "1_b.up.sql");
}

#[test]
fn non_numeric_version() {
    let s = billing_only();
    migration(&s, "billing", "landlord", "abc_x.up.sql", "SELECT 1;\n");
    migration(&s, "billing", "landlord", "abc_x.down.sql", "SELECT 1;\n");
    let err = refused(&s);
    assert_has(&err, "contexts/billing/migrations/landlord/abc_x.up.sql");
    assert_has(&err, "version \"abc\" is not a number");
}

#[test]
fn up_without_down() {
    let s = billing_only();
    invoices_up_only(&s);
    let err = refused(&s);
    assert_has(
        &err,
        "contexts/billing/migrations/tenant/0001_create_invoices.up.sql",
    );
    assert_has(&err, "has no .down.sql");
    assert_has(&err, "add 0001_create_invoices.down.sql");
}

#[test]
fn down_without_up() {
    let s = billing_only();
    migration(
        &s,
        "billing",
        "tenant",
        "0002_drop_x.down.sql",
        "SELECT 1;\n",
    );
    let err = refused(&s);
    assert_has(
        &err,
        "contexts/billing/migrations/tenant/0002_drop_x.down.sql",
    );
    assert_has(&err, "has no .up.sql");
}

#[test]
fn requires_naming_no_context() {
    let s = only_manifest("calendar", "calendar", "requires = [\"ghost\"]\n");
    let err = refused(&s);
    assert_has(&err, "contexts/calendar/context.toml:4:");
    assert_has(&err, "\"ghost\"");
    assert_has(&err, "no context");
}

#[test]
fn a_dependency_cycle_is_printed() {
    let s = Scratch::empty();
    manifest(&s, "a", "a", "requires = [\"b\"]\n");
    manifest(&s, "b", "b", "requires = [\"c\"]\n");
    manifest(&s, "c", "c", "requires = [\"a\"]\n");
    valid_context(&s, "d");
    let err = refused(&s);
    assert_has(&err, "a -> b -> c -> a");
    assert_has(&err, "contexts/a/context.toml");
    // One cycle, reported once, not once per member.
    assert_eq!(err.matches("dependency cycle").count(), 1, "{err}");
    assert!(!err.contains("contexts/d"), "{err}");
}

#[test]
fn an_unreadable_migration_file() {
    let s = Scratch::empty();
    valid_context(&s, "billing");
    make_unreadable(&s.path("contexts/billing/migrations/tenant/0001_create_things.up.sql"));
    let err = refused(&s);
    assert_has(
        &err,
        "contexts/billing/migrations/tenant/0001_create_things.up.sql",
    );
    assert_has(&err, "cannot be read");
}

#[test]
fn a_migration_file_that_is_not_utf8() {
    let s = billing_with_a_non_utf8_up(b"SELECT '\xff\xfe';\n");
    let err = refused(&s);
    assert_has(&err, "contexts/billing/migrations/tenant/0001_x.up.sql");
    assert_has(&err, "is not valid UTF-8");
}

#[test]
fn a_manifest_that_is_not_utf8() {
    let s = Scratch::empty();
    s.write(
        "contexts/billing/context.toml",
        b"name = \"billing\"\ntitle = \"B\xe9\"\nversion = \"1\"\n",
    );
    let err = refused(&s);
    assert_has(&err, "contexts/billing/context.toml");
    assert_has(&err, "is not valid UTF-8");
}

#[test]
fn an_unusable_up_file_is_not_also_reported_as_missing() {
    // The up file exists but is not UTF-8: that is the one problem. Telling the operator to
    // "add 0001_x.up.sql" (it is there) sends them the wrong way.
    let s = billing_with_a_non_utf8_up(b"SELECT '\xff';\n");
    let problems = json_problems(&s);
    assert_eq!(
        problems.len(),
        1,
        "one problem (the up file is not UTF-8), got: {problems:#?}"
    );
    assert!(problems[0].0.ends_with("0001_x.up.sql"), "{problems:#?}");
}

#[test]
fn several_problems_in_different_contexts_are_all_listed_at_once() {
    let s = Scratch::empty();
    valid_context(&s, "user_management");
    manifest(&s, "cards", "card", "");
    manifest(
        &s,
        "calendar",
        "calendar",
        "require = [\"user_management\"]\n",
    );
    manifest(&s, "billing", "billing", "requires = [\"ghost\"]\n");
    invoices_up_only(&s);
    manifest(&s, "audit", "audit", "");
    migration(&s, "audit", "tenant", "x1_log.up.sql", "SELECT 1;\n");
    migration(&s, "audit", "tenant", "x1_log.down.sql", "SELECT 1;\n");

    let err = refused(&s);
    assert_has(&err, "contexts/cards/context.toml:1:8");
    assert_has(&err, "contexts/calendar/context.toml:4:1");
    assert_has(&err, "contexts/billing/context.toml:4:");
    assert_has(&err, "\"ghost\"");
    assert_has(
        &err,
        "contexts/billing/migrations/tenant/0001_create_invoices.up.sql",
    );
    assert_has(&err, "contexts/audit/migrations/tenant/x1_log.up.sql");
    assert_has(&err, "contexts/audit/migrations/tenant/x1_log.down.sql");
    assert_has(&err, "6 problem(s)");
    assert!(!err.contains("contexts/user_management"), "{err}");

    let problems = json_problems(&s);
    assert_eq!(problems.len(), 6, "{problems:#?}");
    for folder in ["cards", "calendar", "billing", "audit"] {
        assert!(
            problems
                .iter()
                .any(|(loc, _)| loc.contains(&format!("contexts/{folder}/"))),
            "nothing about {folder}: {problems:#?}"
        );
    }
}

#[test]
fn check_creates_no_database() {
    let s = only_manifest("Card", "Card", "");
    refused(&s);
    assert!(
        !s.landlord().exists(),
        "check on broken contexts created the landlord"
    );
    let s = Scratch::new();
    s.estate(&["check"]).expect(0);
    assert!(
        s.snapshot().is_empty(),
        "check wrote databases: {:?}",
        s.snapshot().keys()
    );
}

#[test]
fn several_contexts_folders_are_one_catalog_and_a_context_in_two_is_a_problem() {
    // The app's own contexts beside a shared folder: requires reach across, `new context`
    // writes into the first folder.
    let s = Scratch::empty();
    s.write(
        "config/estate.toml",
        "contexts = [\"contexts\", \"vendor\"]\n[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/tenants/{slug}.db\"\n",
    );
    manifest(&s, "cards", "cards", "requires = [\"users\"]\n");
    s.write(
        "vendor/users/context.toml",
        "name = \"users\"\ntitle = \"T\"\nversion = \"1.0.0\"\n",
    );
    s.estate_summary(&["check"], 0, "ok: 2 contexts");
    s.estate(&["init"]).expect(0);
    let v = s.estate_json(&["modules", "--json"]);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cards", "users"], "{v}");
    s.estate(&["new", "context", "calendar", "--requires", "users"])
        .expect(0);
    assert!(s.path("contexts/calendar/context.toml").is_file());
    let run = s.estate(&["new", "context", "users"]).expect(2);
    assert_has(&run.stderr, "context users already exists, in");

    // The same context in both folders: which one is meant is not for estate to guess.
    s.write(
        "contexts/users/context.toml",
        "name = \"users\"\ntitle = \"T\"\nversion = \"2.0.0\"\n",
    );
    let err = refused(&s);
    assert_has(&err, "context users is also in");
    assert_has(&err, "vendor/users");
}

/// `estate ARGS` that must end within `seconds` (a hostile file must never hang a command):
/// killed and failed otherwise.
fn within(s: &Scratch, args: &[&str], seconds: u64) -> Run {
    let mut child = s
        .estate_command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("estate {args:?} still ran after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Puts a hostile file in a project.
type Plant = fn(&Scratch);

/// Hostile files in a context: a NUL byte in SQL, a migration that is a symbolic link to a
/// system file, a FIFO as a migration or as a manifest. Each is refused by `check` and by an
/// install's dry run within seconds, with exit 2, the file named and the fix, and nothing
/// changed; the linked file's text is never printed.
#[test]
fn hostile_files_are_refused_by_name_and_never_hang() {
    let cases: [(&str, Plant); 4] = [
        ("holds a NUL byte on line 2", |s| {
            s.write(
                "contexts/calendar/migrations/tenant/0004_nul.up.sql",
                b"SELECT 1;\nSELECT '\0';\n",
            );
            s.write(
                "contexts/calendar/migrations/tenant/0004_nul.down.sql",
                "SELECT 1;\n",
            );
        }),
        (
            "it is a symbolic link, and estate reads only regular files",
            |s| {
                std::os::unix::fs::symlink(
                    "/etc/passwd",
                    s.path("contexts/calendar/migrations/tenant/0004_link.up.sql"),
                )
                .unwrap();
                s.write(
                    "contexts/calendar/migrations/tenant/0004_link.down.sql",
                    "SELECT 1;\n",
                );
            },
        ),
        ("it is a FIFO, not a regular file", |s| {
            mkfifo(&s.path("contexts/calendar/migrations/tenant/0004_fifo.up.sql"));
            s.write(
                "contexts/calendar/migrations/tenant/0004_fifo.down.sql",
                "SELECT 1;\n",
            );
        }),
        ("it is a FIFO, not a regular file", |s| {
            std::fs::create_dir_all(s.path("contexts/loyalty")).unwrap();
            mkfifo(&s.path("contexts/loyalty/context.toml"));
        }),
    ];
    for (says, plant) in cases {
        let s = Scratch::new();
        s.add_tenants(&["acme"]);
        plant(&s);
        let before = s.snapshot();
        for args in [
            &["check"][..],
            &["install", "calendar", "--tenant", "acme", "--dry-run"],
        ] {
            let run = within(&s, args, 10);
            assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
            assert_has(&run.stderr, says);
            assert_has(&run.stderr, "fix:");
            assert!(
                !run.stdout.contains("root:"),
                "the link was followed: {}",
                run.stdout
            );
            assert!(
                !run.stderr.contains("root:"),
                "the link was followed: {}",
                run.stderr
            );
        }
        assert_eq!(s.snapshot(), before, "{says}: something changed");
    }
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A migration at version 0 (the ledger's "nothing applied") is refused by `check`, as a SQL
/// file or a blueprint, with the file named and the fix; nothing is planned from it.
#[test]
fn a_migration_at_version_0_is_refused() {
    for (file, text) in [
        ("0000_first.up.sql", "CREATE TABLE zero (id INTEGER);\n"),
        ("0000_first.toml", "[tables.zero]\n"),
    ] {
        let s = billing_only();
        s.write(&format!("contexts/billing/migrations/tenant/{file}"), text);
        if file.ends_with(".up.sql") {
            s.write(
                "contexts/billing/migrations/tenant/0000_first.down.sql",
                "DROP TABLE zero;\n",
            );
        }
        let err = refused(&s);
        assert_has(&err, file);
        assert_has(&err, "has version 0, which means \"nothing applied\"");
        assert_has(&err, "number migrations from 1");
    }
}
