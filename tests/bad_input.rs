//! Bad input is refused before anything runs: exit status 2, a message that names the problem
//! and the fix, and every database as it was (SQLite: byte for byte; PostgreSQL: every
//! database, schema, table, column, index and row of the project).
//!
//! Each test sets up the same project (tenants acme and globex, digital_card installed for
//! acme), takes a snapshot of every file under var/ and every PostgreSQL database of the
//! project, breaks one thing, and compares. Each runs on SQLite and on both PostgreSQL layouts.
//!
//! Hostile is not always bad: names that reach a database only as bound parameters (migration
//! descriptions, context names like `select`, tenant display names with quotes and SQL) and a
//! migration of several MB must work and be recorded verbatim; those tests are here too.

mod common;
use common::*;

/// tenants acme and globex; digital_card (and so user_management) installed for acme.
fn project(setup: Setup) -> Scratch {
    let s = digital_card_for_acme(setup);
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
    s
}

/// Compares two snapshots file by file (and PostgreSQL table by table), naming what differs.
fn assert_unchanged(s: &Scratch, before: &Snapshot, what: &str) {
    let after = s.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{what}: files under var/ or database objects appeared or vanished"
    );
    for (place, bytes) in before {
        assert!(
            after[place] == *bytes,
            "{what}: {place} changed:\n--- before\n{}\n--- after\n{}",
            String::from_utf8_lossy(bytes)
                .chars()
                .take(4000)
                .collect::<String>(),
            String::from_utf8_lossy(&after[place])
                .chars()
                .take(4000)
                .collect::<String>()
        );
    }
}

/// Runs `args`, expects exit 2 with `error: ...` and `fix: ...` on stderr, nothing changed,
/// and returns stderr.
fn refused(s: &Scratch, args: &[&str]) -> String {
    let before = s.snapshot();
    assert!(!before.is_empty());
    let run = s.estate(args).expect(2);
    let what = format!("estate {args:?}");
    assert!(
        run.stderr.starts_with("error: ") || run.stderr.contains("\nerror: "),
        "{what}: no `error:` line in:\n{}",
        run.stderr
    );
    assert_has(&run.stderr, "\n  fix: ");
    assert_unchanged(s, &before, &what);
    run.stderr
}

/// 64 lowercase hex digits.
fn is_checksum(word: &str) -> bool {
    word.len() == 64
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn checksums_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| is_checksum(w))
        .map(str::to_string)
        .collect()
}

on_every_setup!(unknown_module);
fn unknown_module(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["install", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
    assert_has(&err, "calendar");
    let err = refused(&s, &["rollback", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
}

on_every_setup!(unknown_tenant);
fn unknown_tenant(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["install", "calendar", "--tenant", "nobody"]);
    assert_has(&err, "unknown tenant \"nobody\"");
    assert_has(&err, "tenants add nobody");
    // One unknown tenant among known ones refuses the whole plan.
    let err = refused(
        &s,
        &[
            "install", "calendar", "--tenant", "acme", "--tenant", "nobody",
        ],
    );
    assert_has(&err, "\"nobody\"");
    assert!(!has_table(&s.tenant_db("acme"), "calendars"));
}

const BAD_SLUGS: [&str; 4] = ["Acme", "../x", "a;drop table t", ""];

fn assert_slug_message(err: &str, slug: &str) {
    if slug.is_empty() {
        assert_has(err, "the tenant slug is empty");
    } else {
        assert_has(err, &format!("tenant slug {slug:?} is not valid"));
    }
    assert_has(err, "lowercase letters, digits");
}

on_every_setup!(bad_slugs_for_tenants_add);
fn bad_slugs_for_tenants_add(setup: Setup) {
    let s = project(setup);
    for slug in BAD_SLUGS {
        let err = refused(&s, &["tenants", "add", slug]);
        assert_slug_message(&err, slug);
    }
    assert!(!s.path("var/x.db").exists());
    assert!(!s.path("x.db").exists());
    assert_eq!(
        query(
            &s.landlord(),
            "SELECT slug FROM estate_tenants ORDER BY slug"
        ),
        vec![names(&["acme"]), names(&["globex"])]
    );
}

on_every_setup!(bad_slugs_for_install_tenant);
fn bad_slugs_for_install_tenant(setup: Setup) {
    let s = project(setup);
    for slug in BAD_SLUGS {
        let err = refused(&s, &["install", "calendar", "--tenant", slug]);
        assert_slug_message(&err, slug);
        let err = refused(&s, &["rollback", "digital_card", "--tenant", slug]);
        assert_slug_message(&err, slug);
    }
}

on_every_setup!(suggested_slug_is_valid);
fn suggested_slug_is_valid(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["tenants", "add", "a;drop table t"]);
    assert_has(&err, "e.g. a-drop-table-t");
}

on_every_setup!(adding_an_existing_tenant);
fn adding_an_existing_tenant(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["tenants", "add", "acme"]);
    assert_has(&err, "tenant acme already exists");
    let err = refused(&s, &["tenants", "add", "acme", "--name", "Acme Two"]);
    assert_has(&err, "already exists");
}

on_every_setup!(rolling_back_a_module_another_installed_module_requires);
fn rolling_back_a_module_another_installed_module_requires(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["rollback", "user_management", "--tenant", "acme"]);
    assert_has(&err, "digital_card requires user_management");
    assert_has(&err, "--cascade");
}

on_every_setup!(install_without_tenant_or_all);
fn install_without_tenant_or_all(setup: Setup) {
    let s = project(setup);
    let before = s.snapshot();
    let run = s.estate(&["install", "calendar"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_has(&run.stderr, "--all");
    assert_unchanged(&s, &before, "install without --tenant/--all");
    let run = s.estate(&["rollback", "digital_card"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_unchanged(&s, &before, "rollback without --tenant/--all");
}

on_every_setup!(read_only_refuses_changes);
fn read_only_refuses_changes(setup: Setup) {
    let s = project(setup);
    let err = refused(
        &s,
        &["--read-only", "install", "calendar", "--tenant", "acme"],
    );
    assert_has(&err, "read-only");
    let err = refused(
        &s,
        &[
            "--read-only",
            "rollback",
            "digital_card",
            "--tenant",
            "acme",
        ],
    );
    assert_has(&err, "read-only");
    let err = refused(&s, &["--read-only", "tenants", "add", "initech"]);
    assert_has(&err, "read-only");
    assert!(!s.tenant_provisioned("initech"));
}

/// Read-only writes nothing at all: with no log folder yet, reading commands make none (and no
/// log file); their warnings go to stderr.
#[test]
fn read_only_creates_no_folder_and_no_log_file() {
    let s = project(Setup::Sqlite);
    std::fs::remove_dir_all(s.path("var/log")).unwrap();
    let before = s.var_files();
    for args in [
        &["--read-only", "status"][..],
        &["--read-only", "verify"],
        &["--read-only", "history"],
        &["--read-only", "jobs"],
        &["--read-only", "install", "calendar", "--tenant", "acme"],
    ] {
        s.estate(args);
        assert!(!s.path("var/log").exists(), "{args:?} made var/log");
    }
    let run = s.estate_with_env(
        &["status"],
        &[("ESTATE_READ_ONLY", "1"), ("ESTATE_LOG", "estate=info")],
    );
    assert_has(&run.stderr, "estate started");
    assert!(!s.path("var/log").exists());
    assert_eq!(s.var_files(), before, "read-only changed var/");
}

// --- catalog problems introduced after setup ------------------------------------------------
//
// Catalog problems are found before any database is opened, the same way on every engine, so
// each has its own test on SQLite, and one test per PostgreSQL layout walks through all of them
// on a single project (putting the sample contexts back between two), which spares a project
// per problem on PostgreSQL.

/// Breaks the catalog of `s` with `break_it`, then expects install, rollback and migrate to be
/// refused naming `needle`, with nothing changed.
fn refused_with_broken_catalog(s: &Scratch, break_it: fn(&Scratch), needle: &str) {
    break_it(s);
    let err = refused(s, &["install", "calendar", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(s, &["rollback", "digital_card", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(s, &["migrate", "--all"]);
    assert_has(&err, needle);
    assert!(!has_table(&s.tenant_db("acme"), "calendars"));
}

const CAL_TENANT: &str = "contexts/calendar/migrations/tenant";

/// Writes `file` (text or bytes) into calendar's tenant migrations.
fn calendar_file(s: &Scratch, file: &str, sql: impl AsRef<[u8]>) {
    migration(s, "calendar", "tenant", file, sql);
}

/// Writes `NAME.up.sql` and `NAME.down.sql`, both `SELECT 1;`, into calendar's tenant migrations.
fn calendar_pair(s: &Scratch, name: &str) {
    migration_pair(s, "calendar", "tenant", name, "SELECT 1;\n", "SELECT 1;\n");
}

/// A way to break the catalog, and what the refusal must name.
struct Breakage {
    name: &'static str,
    break_it: fn(&Scratch),
    needle: &'static str,
}

/// Every catalog breakage these tests try.
fn breakages() -> Vec<Breakage> {
    vec![
        Breakage {
            name: "up_without_down",
            break_it: |s| {
                calendar_file(
                    s,
                    "0004_add_color.up.sql",
                    "ALTER TABLE events ADD COLUMN color TEXT;\n",
                )
            },
            needle: "0004_add_color.up.sql: has no .down.sql",
        },
        Breakage {
            name: "down_without_up",
            break_it: |s| calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n"),
            needle: "0004_add_color.down.sql: has no .up.sql",
        },
        Breakage {
            name: "name_differs_from_folder",
            break_it: |s| manifest(s, "notes", "note", ""),
            needle: "contexts/notes/context.toml:1:8",
        },
        Breakage {
            name: "bad_name",
            break_it: |s| manifest(s, "Notes", "Notes", ""),
            needle: "context name \"Notes\" is not valid",
        },
        Breakage {
            name: "unknown_key",
            break_it: |s| {
                manifest(
                    s,
                    "calendar",
                    "calendar",
                    "require = [\"user_management\"]\n",
                )
            },
            needle: "contexts/calendar/context.toml:4:1",
        },
        Breakage {
            name: "duplicate_version",
            break_it: |s| calendar_pair(s, "3_dup"),
            needle: "version 3 is used more than once",
        },
        Breakage {
            name: "non_numeric_version",
            break_it: |s| calendar_pair(s, "abc_x"),
            needle: "abc_x.up.sql: version \"abc\" is not a number",
        },
        Breakage {
            name: "requires_no_context",
            break_it: |s| manifest(s, "notes", "notes", "requires = [\"ghost\"]\n"),
            needle: "\"ghost\", which is no context",
        },
        Breakage {
            name: "cycle",
            break_it: |s| {
                manifest(s, "a", "a", "requires = [\"b\"]\n");
                manifest(s, "b", "b", "requires = [\"c\"]\n");
                manifest(s, "c", "c", "requires = [\"a\"]\n");
            },
            needle: "a -> b -> c -> a",
        },
        Breakage {
            name: "file_not_utf8",
            break_it: |s| {
                calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n");
                calendar_file(s, "0004_add_color.up.sql", b"SELECT '\xff';\n");
            },
            needle: "0004_add_color.up.sql: is not valid UTF-8",
        },
        Breakage {
            name: "upper_case_extension",
            break_it: |s| {
                calendar_file(s, "0004_add_color.up.SQL", "SELECT 1;\n");
                calendar_file(s, "0004_add_color.down.SQL", "SELECT 1;\n");
            },
            needle: "0004_add_color.up.SQL: has the extension \".SQL\": name it in lowercase",
        },
        Breakage {
            name: "version_overflows_u64",
            break_it: |s| calendar_pair(s, "99999999999999999999_x"),
            needle: "99999999999999999999_x.up.sql: version 99999999999999999999 is too large",
        },
        Breakage {
            name: "version_overflows_i64_by_one",
            break_it: |s| calendar_pair(s, "9223372036854775808_x"),
            needle: "version 9223372036854775808 is too large: versions must fit a 64-bit signed integer",
        },
        Breakage {
            name: "negative_version",
            break_it: |s| calendar_pair(s, "-4_x"),
            needle: "-4_x.up.sql: version \"-4\" is not a number",
        },
        Breakage {
            name: "no_description",
            break_it: |s| calendar_pair(s, "0004"),
            needle: "0004.up.sql: has no description",
        },
        Breakage {
            name: "control_character_in_file_name",
            break_it: |s| calendar_pair(s, "0004_a\tb"),
            needle: "has control characters in its description",
        },
        Breakage {
            name: "manifest_not_toml",
            break_it: |s| s.write("contexts/calendar/context.toml", "this is not toml {{{\n"),
            needle: "contexts/calendar/context.toml:1:6: key with no value",
        },
        Breakage {
            name: "manifest_wrong_type",
            break_it: |s| {
                s.write(
                    "contexts/calendar/context.toml",
                    "name = \"calendar\"\ntitle = [\"T\"]\nversion = 1.0\n",
                )
            },
            needle: "contexts/calendar/context.toml:2:9: invalid type: sequence, expected a string",
        },
        Breakage {
            name: "manifest_requires_not_a_list",
            break_it: |s| {
                manifest(
                    s,
                    "calendar",
                    "calendar",
                    "requires = \"user_management\"\n",
                )
            },
            needle: "contexts/calendar/context.toml:4:12: invalid type: string \"user_management\", expected a sequence",
        },
        Breakage {
            name: "manifest_hostile_requires",
            break_it: |s| {
                manifest(
                    s,
                    "calendar",
                    "calendar",
                    "requires = [\"x'; DROP TABLE y; --\"]\n",
                )
            },
            needle: "calendar requires \"x'; DROP TABLE y; --\", which is no context",
        },
        Breakage {
            name: "manifest_control_character",
            break_it: |s| {
                s.write(
                    "contexts/calendar/context.toml",
                    "name = \"calendar\"\ntitle = \"Cal\\u001b[2J\"\nversion = \"1.0.0\"\n",
                )
            },
            needle: "contexts/calendar/context.toml:2:9: title contains the control character '\\u{1b}'",
        },
        Breakage {
            name: "manifest_not_utf8",
            break_it: |s| {
                s.write(
                    "contexts/calendar/context.toml",
                    b"name = \"calendar\"\ntitle = \"\xff\"\nversion = \"1\"\n",
                )
            },
            needle: "contexts/calendar/context.toml: is not valid UTF-8",
        },
        Breakage {
            name: "manifest_unreadable",
            // A folder where the file should be cannot be read by any user, root included.
            break_it: |s| {
                std::fs::remove_file(s.path("contexts/calendar/context.toml")).unwrap();
                std::fs::create_dir(s.path("contexts/calendar/context.toml")).unwrap();
            },
            needle: "contexts/calendar/context.toml: cannot be read",
        },
        Breakage {
            name: "scope_is_a_file",
            break_it: |s| {
                std::fs::remove_dir_all(s.path(CAL_TENANT)).unwrap();
                s.write(CAL_TENANT, "CREATE TABLE calendars (id INTEGER);\n");
            },
            needle: "contexts/calendar/migrations/tenant: is not a folder",
        },
        Breakage {
            name: "requires_itself",
            break_it: |s| manifest(s, "calendar", "calendar", "requires = [\"calendar\"]\n"),
            needle: "dependency cycle: calendar -> calendar",
        },
        Breakage {
            name: "unreadable_file",
            break_it: |s| {
                make_unreadable(&s.path(&format!("{CAL_TENANT}/0001_create_calendars.up.sql")))
            },
            needle: "0001_create_calendars.up.sql: cannot be read",
        },
    ]
}

/// On a fresh SQLite project, the breakage called `name`.
fn catalog_problem_on_sqlite(name: &str) {
    let b = breakages()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no breakage {name}"));
    refused_with_broken_catalog(&project(Setup::Sqlite), b.break_it, b.needle);
}

#[test]
fn catalog_up_without_down() {
    catalog_problem_on_sqlite("up_without_down");
}

#[test]
fn catalog_down_without_up() {
    catalog_problem_on_sqlite("down_without_up");
}

#[test]
fn catalog_name_differs_from_folder() {
    catalog_problem_on_sqlite("name_differs_from_folder");
}

#[test]
fn catalog_bad_name() {
    catalog_problem_on_sqlite("bad_name");
}

#[test]
fn catalog_unknown_key() {
    catalog_problem_on_sqlite("unknown_key");
}

#[test]
fn catalog_duplicate_version() {
    catalog_problem_on_sqlite("duplicate_version");
}

#[test]
fn catalog_non_numeric_version() {
    catalog_problem_on_sqlite("non_numeric_version");
}

#[test]
fn catalog_requires_no_context() {
    catalog_problem_on_sqlite("requires_no_context");
}

#[test]
fn catalog_cycle() {
    catalog_problem_on_sqlite("cycle");
}

#[test]
fn catalog_file_not_utf8() {
    catalog_problem_on_sqlite("file_not_utf8");
}

#[test]
fn catalog_unreadable_file() {
    catalog_problem_on_sqlite("unreadable_file");
}

#[test]
fn catalog_upper_case_extension() {
    catalog_problem_on_sqlite("upper_case_extension");
}

#[test]
fn catalog_version_overflows_u64() {
    catalog_problem_on_sqlite("version_overflows_u64");
}

#[test]
fn catalog_version_overflows_i64_by_one() {
    catalog_problem_on_sqlite("version_overflows_i64_by_one");
}

#[test]
fn catalog_negative_version() {
    catalog_problem_on_sqlite("negative_version");
}

#[test]
fn catalog_no_description() {
    catalog_problem_on_sqlite("no_description");
}

#[test]
fn catalog_control_character_in_file_name() {
    catalog_problem_on_sqlite("control_character_in_file_name");
}

#[test]
fn catalog_manifest_not_toml() {
    catalog_problem_on_sqlite("manifest_not_toml");
}

#[test]
fn catalog_manifest_wrong_type() {
    catalog_problem_on_sqlite("manifest_wrong_type");
}

#[test]
fn catalog_manifest_requires_not_a_list() {
    catalog_problem_on_sqlite("manifest_requires_not_a_list");
}

#[test]
fn catalog_manifest_hostile_requires() {
    catalog_problem_on_sqlite("manifest_hostile_requires");
}

#[test]
fn catalog_manifest_control_character() {
    catalog_problem_on_sqlite("manifest_control_character");
}

#[test]
fn catalog_manifest_not_utf8() {
    catalog_problem_on_sqlite("manifest_not_utf8");
}

#[test]
fn catalog_manifest_unreadable() {
    catalog_problem_on_sqlite("manifest_unreadable");
}

#[test]
fn catalog_scope_is_a_file() {
    catalog_problem_on_sqlite("scope_is_a_file");
}

#[test]
fn catalog_requires_itself() {
    catalog_problem_on_sqlite("requires_itself");
}

/// A user who is not root cannot read a mode-000 manifest; root can, so the test has nothing
/// to show there (the folder-in-its-place breakage covers every user).
#[test]
fn catalog_manifest_mode_000() {
    use std::os::unix::fs::PermissionsExt;
    let s = project(Setup::Sqlite);
    let file = s.path("contexts/calendar/context.toml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&file).is_ok() {
        eprintln!("skipped: this user reads mode-000 files (root)");
        return;
    }
    let err = refused(&s, &["install", "calendar", "--tenant", "acme"]);
    assert_has(&err, "contexts/calendar/context.toml: cannot be read");
    assert_has(&err, "make the file readable by the user running estate");
}

on_postgres_setups!(every_catalog_problem);
/// Every breakage in turn on one project, the sample contexts put back between two.
fn every_catalog_problem(setup: Setup) {
    let s = project(setup);
    for b in breakages() {
        // Shown with the failure, naming the breakage.
        eprintln!("catalog breakage: {}", b.name);
        s.reset_contexts();
        refused_with_broken_catalog(&s, b.break_it, b.needle);
    }
}

// --- drift ---------------------------------------------------------------------------------

/// The first tenant up file of a context, relative to the project.
fn first_tenant_up(s: &Scratch, context: &str) -> String {
    let dir = format!("contexts/{context}/migrations/tenant");
    let mut ups: Vec<String> = std::fs::read_dir(s.path(&dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    ups.sort();
    format!("{dir}/{}", ups[0])
}

/// Appends a comment line to an applied migration; returns (file, recorded, actual checksums).
fn drift(s: &Scratch, context: &str) -> (String, String, String) {
    let file = first_tenant_up(s, context);
    let version: i64 = file.rsplit('/').next().unwrap()[..4].parse().unwrap();
    let recorded = query(
        &s.tenant_db("acme"),
        &format!(
            "SELECT checksum FROM estate_ledger WHERE context = '{context}' AND scope = 'tenant' AND version = {version}"
        ),
    );
    assert_eq!(recorded.len(), 1, "{file} is applied to acme");
    let mut text = std::fs::read(s.path(&file)).unwrap();
    text.extend_from_slice(b"-- edited after it was applied\n");
    std::fs::write(s.path(&file), &text).unwrap();
    let actual = estate_engine::catalog::checksum(&text);
    (file, recorded[0][0].clone(), actual)
}

fn assert_names_drift(err: &str, file: &str, recorded: &str, actual: &str) {
    assert_has(err, file);
    assert_has(err, recorded);
    assert_has(err, actual);
    assert_ne!(recorded, actual);
    let sums = checksums_in(err);
    assert!(sums.len() >= 2, "two 64-hex checksums in:\n{err}");
    assert!(sums.contains(&recorded.to_string()) && sums.contains(&actual.to_string()));
}

/// On the `setup` project, drifts `context`'s first tenant migration, expects `args` to be
/// refused naming the file and both checksums, and returns the project.
fn refused_after_drift(setup: Setup, context: &str, args: &[&str]) -> Scratch {
    let s = project(setup);
    let (file, recorded, actual) = drift(&s, context);
    let err = refused(&s, args);
    assert_names_drift(&err, &file, &recorded, &actual);
    s
}

on_every_setup!(drift_refuses_rolling_back_the_changed_module);
fn drift_refuses_rolling_back_the_changed_module(setup: Setup) {
    let s = refused_after_drift(
        setup,
        "digital_card",
        &["rollback", "digital_card", "--tenant", "acme"],
    );
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
}

on_every_setup!(drift_in_an_installed_module_refuses_installing_another_on_that_tenant);
fn drift_in_an_installed_module_refuses_installing_another_on_that_tenant(setup: Setup) {
    // digital_card's applied tenant migration changed; installing calendar on the same tenant
    // database must be refused until the file is restored.
    refused_after_drift(
        setup,
        "digital_card",
        &["install", "calendar", "--tenant", "acme"],
    );
}

on_every_setup!(drift_in_a_required_module_refuses_the_install);
fn drift_in_a_required_module_refuses_the_install(setup: Setup) {
    refused_after_drift(
        setup,
        "user_management",
        &["install", "calendar", "--tenant", "acme"],
    );
}

on_every_setup!(crlf_line_endings_are_not_drift);
fn crlf_line_endings_are_not_drift(setup: Setup) {
    let s = project(setup);
    let file = first_tenant_up(&s, "digital_card");
    let text = std::fs::read_to_string(s.path(&file)).unwrap();
    assert!(!text.contains('\r'));
    std::fs::write(s.path(&file), text.replace('\n', "\r\n")).unwrap();

    let run = s
        .estate(&["status", "--tenant", "acme", "--json"])
        .expect(0);
    let rows = run.json();
    let dc = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "digital_card")
        .expect("a digital_card row");
    assert_eq!(dc["state"], "installed", "{rows}");
    assert_eq!(dc["pending"], 0, "{rows}");

    s.estate(&["rollback", "digital_card", "--tenant", "acme"])
        .expect(0);
    let t = tables(&s.tenant_db("acme"));
    assert!(!t.contains(&"digital_cards".to_string()), "{t:?}");
    assert!(!t.contains(&"card_templates".to_string()), "{t:?}");
    assert!(t.contains(&"user_profiles".to_string()), "{t:?}");
    assert!(
        query(
            &s.tenant_db("acme"),
            "SELECT 1 FROM estate_ledger WHERE context = 'digital_card'"
        )
        .is_empty()
    );
}

// --- the fixture itself ----------------------------------------------------------------------

on_every_setup!(the_snapshot_sees_every_kind_of_change);
/// `refused` trusts `Scratch::snapshot` to see any change: a row, a column, an index, a table,
/// and (PostgreSQL) a new schema or database of the project.
fn the_snapshot_sees_every_kind_of_change(setup: Setup) {
    let s = project(setup);
    let acme = s.tenant_db("acme");
    let changes: [(&DbRef, &str); 5] = [
        (
            &acme,
            "UPDATE user_profiles SET job_title = job_title WHERE 1 = 0",
        ),
        (
            &acme,
            "INSERT INTO card_templates (id, name, layout) VALUES ('t1', 'n', 'l')",
        ),
        (&acme, "ALTER TABLE card_templates ADD COLUMN extra TEXT"),
        (
            &acme,
            "CREATE INDEX card_templates_extra ON card_templates (extra)",
        ),
        (&acme, "CREATE TABLE scratch_table (x INTEGER)"),
    ];
    for (i, (db, sql)) in changes.iter().enumerate() {
        let before = s.snapshot();
        exec(db, sql);
        let changed = s.snapshot() != before;
        // The first statement changes no row: the snapshot must not see a change either.
        assert_eq!(changed, i > 0, "{sql} on {db}");
    }
    let before = s.snapshot();
    exec(
        &s.landlord(),
        "UPDATE estate_tenants SET name = 'Acme Two' WHERE slug = 'acme'",
    );
    assert!(s.snapshot() != before, "a landlord row");
    if setup.is_postgres() {
        let before = s.snapshot();
        s.add_tenants(&["initech"]);
        assert!(s.snapshot() != before, "a new tenant database or schema");
    }
}

// --- hostile names that are not bad input ------------------------------------------------------
//
// Names that reach the databases only as bound parameters (migration descriptions, context
// names, tenant display names) may hold quotes, SQL and any script: they must work and be
// recorded exactly as written, with nothing else touched.

/// A context `notes` whose tenant migrations have hostile but valid file names, plus leftovers
/// beside them that are no migrations.
fn notes_with_hostile_file_names(s: &Scratch) -> Vec<(i64, &'static str)> {
    manifest(s, "notes", "notes", "");
    let named = [
        (
            1,
            "0001_it's; DROP TABLE notes; --",
            "it's; DROP TABLE notes; --",
        ),
        (2, "0002_\"quoted\" café 🦀 שלום", "\"quoted\" café 🦀 שלום"),
        (3, "00000000000000000003_leading_zeros", "leading zeros"),
        (4, "0004_..", ".."),
        (5, "0005_x.up", "x.up"),
    ];
    for (version, name, _) in named {
        migration_pair(
            s,
            "notes",
            "tenant",
            name,
            &format!("CREATE TABLE notes_{version} (id INTEGER);\n"),
            &format!("DROP TABLE notes_{version};\n"),
        );
    }
    // Editors' and tools' leftovers: ignored, as sqlx-cli ignores them, or each would clash
    // with the version it copies.
    for leftover in [
        "0001_it's; DROP TABLE notes; --.up.sql.bak",
        "0002_x.down.sql~",
        "0003_x.up.sql.orig",
        "README.md",
    ] {
        migration(s, "notes", "tenant", leftover, "this is not SQL;\n");
    }
    named.iter().map(|(v, _, d)| (*v, *d)).collect()
}

on_every_setup!(hostile_migration_file_names_are_recorded_verbatim);
fn hostile_migration_file_names_are_recorded_verbatim(setup: Setup) {
    let s = project(setup);
    let want = notes_with_hostile_file_names(&s);
    s.estate(&["check"]).expect(0);
    s.estate(&["install", "notes", "--tenant", "acme"])
        .expect(0);
    let acme = s.tenant_db("acme");
    let recorded: Vec<(i64, String)> = query(
        &acme,
        "SELECT version, description FROM estate_ledger WHERE context = 'notes' ORDER BY version",
    )
    .into_iter()
    .map(|r| (r[0].parse().unwrap(), r[1].clone()))
    .collect();
    let want: Vec<(i64, String)> = want.into_iter().map(|(v, d)| (v, d.to_string())).collect();
    assert_eq!(recorded, want);
    for v in 1..=5 {
        assert!(has_table(&acme, &format!("notes_{v}")), "notes_{v}");
    }
    // The ledger and the other modules are intact.
    assert!(has_table(&acme, "digital_cards"));
    s.estate(&["rollback", "notes", "--tenant", "acme"])
        .expect(0);
    assert!(
        query(&acme, "SELECT 1 FROM estate_ledger WHERE context = 'notes'").is_empty(),
        "rolled back"
    );
    assert!(!has_table(&acme, "notes_1"));
    assert!(has_table(&acme, "digital_cards"));
}

/// Writes contexts named like SQL keywords, each with one tenant migration.
fn keyword_contexts(s: &Scratch) -> [&'static str; 3] {
    let names = ["select", "table", "order"];
    for name in names {
        manifest(s, name, name, "");
        migration_pair(
            s,
            name,
            "tenant",
            "0001_create",
            &format!("CREATE TABLE {name}_items (id INTEGER);\n"),
            &format!("DROP TABLE {name}_items;\n"),
        );
    }
    names
}

on_every_setup!(contexts_named_like_sql_keywords_work);
/// Context names are never spliced into SQL text, so `select`, `table` and `order` are names
/// like any other: installed, recorded as they are, shown, rolled back.
fn contexts_named_like_sql_keywords_work(setup: Setup) {
    let s = project(setup);
    let keywords = keyword_contexts(&s);
    s.estate(&["check"]).expect(0);
    s.estate(&["install", "select", "table", "order", "--tenant", "acme"])
        .expect(0);
    let acme = s.tenant_db("acme");
    let mut recorded = first_column(
        &acme,
        "SELECT context FROM estate_ledger WHERE version = 1 AND context IN ('select', 'table', 'order')",
    );
    recorded.sort();
    assert_eq!(recorded, names(&["order", "select", "table"]));
    let status = s.estate_json(&["status", "--json"]);
    for name in keywords {
        assert_eq!(
            state(&status, "acme", name),
            st("installed", 1, 0),
            "{name}"
        );
        assert_eq!(
            state(&status, "globex", name),
            st("not_installed", 0, 0),
            "{name}"
        );
        assert!(has_table(&acme, &format!("{name}_items")));
    }
    assert_matrix_matches_status(&s);
    s.estate(&["rollback", "order", "--tenant", "acme"])
        .expect(0);
    assert!(!has_table(&acme, "order_items"));
    assert!(has_table(&acme, "select_items"));
    let history = s.estate(&["history"]).expect(0);
    assert_has(&history.stdout, "order");
}

// --- hostile tenant slugs and names ------------------------------------------------------------

/// Slugs beyond BAD_SLUGS: quotes, unicode look-alikes, whitespace, a leading dash, one
/// character too long.
fn hostile_slugs() -> Vec<String> {
    vec![
        "a'b".into(),
        "a\"b".into(),
        "café".into(),
        "ａｃｍｅ".into(),
        "acme\n".into(),
        " acme".into(),
        "-acme".into(),
        "acme.db".into(),
        "a".repeat(64),
        "x".repeat(10_000),
    ]
}

on_every_setup!(hostile_slugs_are_refused);
fn hostile_slugs_are_refused(setup: Setup) {
    let s = project(setup);
    for slug in hostile_slugs() {
        // `--` so a leading dash is the slug, not an option.
        let err = refused(&s, &["tenants", "add", "--", slug.as_str()]);
        assert_slug_message(&err, &slug);
        let err = refused(&s, &["install", "calendar", &format!("--tenant={slug}")]);
        assert_slug_message(&err, &slug);
    }
    let slugs = first_column(
        &s.landlord(),
        "SELECT slug FROM estate_tenants ORDER BY slug",
    );
    assert_eq!(slugs, names(&["acme", "globex"]));
}

on_every_setup!(the_longest_slug);
/// 63 characters is a valid slug. A SQLite file takes it; on PostgreSQL the database or schema
/// name the config makes of it is longer than PostgreSQL's 63 bytes, which would be cut
/// silently (two tenants could share a database), so it is refused with nothing created.
fn the_longest_slug(setup: Setup) {
    let s = project(setup);
    let slug = "a".repeat(63);
    if setup.is_postgres() {
        let err = refused(&s, &["tenants", "add", &slug]);
        assert_has(&err, "longer than PostgreSQL's 63 bytes");
        assert_has(&err, "choose a shorter slug");
        assert!(!s.tenant_provisioned(&slug));
    } else {
        s.estate(&["tenants", "add", &slug]).expect(0);
        s.estate(&["install", "calendar", "--tenant", &slug])
            .expect(0);
        assert!(has_table(&s.tenant_db(&slug), "calendars"));
    }
}

/// Display names that must be stored and given back byte for byte.
const HOSTILE_NAMES: [(&str, &str); 4] = [
    (
        "obrien",
        "O'Brien \"&\" Söhne; DROP TABLE estate_tenants; --",
    ),
    ("crab", "🦀 Ferris & Co. 👩‍👩‍👧"),
    ("shalom", "שלום עולם مرحبا"),
    ("percent", "100% \\_%' OR '1'='1"),
];

on_every_setup!(hostile_tenant_names_are_stored_verbatim);
fn hostile_tenant_names_are_stored_verbatim(setup: Setup) {
    let s = project(setup);
    let longest = "é".repeat(estate_engine::tenancy::MAX_NAME);
    let mut want: Vec<(&str, &str)> = HOSTILE_NAMES.to_vec();
    want.push(("longest", longest.as_str()));
    for (slug, name) in &want {
        let added = s.estate_json(&["tenants", "add", slug, "--name", name, "--json"]);
        assert_eq!(added["name"].as_str(), Some(*name));
    }
    let list = s.estate_json(&["tenants", "list", "--json"]);
    for (slug, name) in &want {
        let t = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["slug"] == *slug)
            .unwrap_or_else(|| panic!("{slug} in {list:#}"));
        assert_eq!(t["name"].as_str(), Some(*name), "{slug}");
        let stored = first_column(
            &s.landlord(),
            &format!("SELECT name FROM estate_tenants WHERE slug = '{slug}'"),
        );
        assert_eq!(stored, vec![name.to_string()], "{slug} in the landlord");
    }
    // The landlord's tables survived the names that look like SQL.
    let slugs = first_column(&s.landlord(), "SELECT slug FROM estate_tenants");
    assert_eq!(slugs.len(), 2 + want.len());
    let text = s.estate(&["tenants", "list"]).expect(0).stdout;
    assert_has(&text, HOSTILE_NAMES[0].1);
    s.estate(&["install", "calendar", "--tenant", "obrien"])
        .expect(0);
}

on_every_setup!(bad_tenant_names_are_refused);
/// Blank, with a control character (a terminal escape, a newline), or longer than MAX_NAME.
fn bad_tenant_names_are_refused(setup: Setup) {
    let s = project(setup);
    let max = estate_engine::tenancy::MAX_NAME;
    let too_long = "é".repeat(max + 1);
    let huge = "x".repeat(10_000);
    let cases: [(&str, String); 6] = [
        ("", "the tenant name is blank".into()),
        ("   ", "the tenant name is blank".into()),
        ("Acme\u{1b}[2J", "control character '\\u{1b}'".into()),
        ("Acme\nCorp", "control character '\\n'".into()),
        (
            &too_long,
            format!("is {} characters long, more than {max}", max + 1),
        ),
        (&huge, format!("is 10000 characters long, more than {max}")),
    ];
    for (name, needle) in &cases {
        let err = refused(&s, &["tenants", "add", "initech", "--name", name]);
        assert_has(&err, needle);
        assert_has(&err, "leave out --name to use the slug");
        assert!(!s.tenant_provisioned("initech"));
    }
}

// --- the config ----------------------------------------------------------------------------------

on_every_setup!(contexts_folder_missing);
/// A config whose contexts folder does not exist (a typo, a checkout elsewhere) is refused by
/// every command, naming the folder and where it came from, before any database is opened.
fn contexts_folder_missing(setup: Setup) {
    let s = project(setup);
    let config = s.path("config/estate.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert_has(&text, "contexts = \"contexts\"");
    std::fs::write(
        &config,
        text.replace("contexts = \"contexts\"", "contexts = \"missing/folder\""),
    )
    .unwrap();
    let missing = s.path("missing/folder").display().to_string();
    for args in [
        &["check"][..],
        &["status"],
        &["tenants", "add", "initech"],
        &["install", "calendar", "--tenant", "acme"],
        &["rollback", "digital_card", "--tenant", "acme"],
        &["migrate", "--all"],
    ] {
        let err = refused(&s, args);
        assert_has(
            &err,
            &format!("the contexts folder {missing} does not exist"),
        );
        assert_has(&err, "set `contexts` in the config (or ESTATE_CONTEXTS)");
    }
    assert!(!s.path("missing").exists());

    // The same from the environment.
    std::fs::write(&config, text).unwrap();
    let before = s.snapshot();
    let run = s
        .estate_with_env(
            &["install", "calendar", "--tenant", "acme"],
            &[("ESTATE_CONTEXTS", "nowhere")],
        )
        .expect(2);
    assert_has(&run.stderr, "nowhere does not exist");
    assert_has(&run.stderr, "\n  fix: ");
    assert_unchanged(&s, &before, "ESTATE_CONTEXTS=nowhere");
}

// --- a large migration -------------------------------------------------------------------------

/// About 5 MB of SQL: a long comment, then rows with large values.
fn big_migration() -> (String, usize) {
    let mut sql = String::from("-- ");
    sql.push_str(&"a long comment explaining the migration ".repeat(50_000));
    sql.push_str("\nCREATE TABLE big_rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);\n");
    let rows = 30;
    for i in 0..rows {
        let payload = format!("{i:04}-").repeat(20_000);
        sql.push_str(&format!(
            "INSERT INTO big_rows (id, payload) VALUES ({i}, '{payload}');\n"
        ));
    }
    (sql, rows)
}

on_every_setup!(a_migration_of_several_megabytes_applies);
/// A legitimate migration of several MB is read, checksummed and applied like any other.
fn a_migration_of_several_megabytes_applies(setup: Setup) {
    let s = project(setup);
    let (sql, rows) = big_migration();
    assert!(sql.len() > 5_000_000, "{} bytes", sql.len());
    manifest(&s, "big", "big", "");
    migration_pair(
        &s,
        "big",
        "tenant",
        "0001_big",
        &sql,
        "DROP TABLE big_rows;\n",
    );
    s.estate(&["install", "big", "--tenant", "acme"]).expect(0);
    let acme = s.tenant_db("acme");
    assert_eq!(
        first_column(&acme, "SELECT count(*) FROM big_rows"),
        vec![rows.to_string()]
    );
    assert_eq!(
        first_column(&acme, "SELECT sum(length(payload)) FROM big_rows"),
        vec![(rows * 100_000).to_string()]
    );
    assert_eq!(
        first_column(
            &acme,
            "SELECT checksum FROM estate_ledger WHERE context = 'big'"
        ),
        vec![estate_engine::catalog::checksum(sql.as_bytes())]
    );
    s.estate(&["rollback", "big", "--tenant", "acme"]).expect(0);
    assert!(!has_table(&acme, "big_rows"));
}

/// An `ESTATE_*` override set to nothing, or a log level that is no filter, is refused with
/// exit 2 naming the variable (or the level) and the fix, and changes nothing: not even a
/// log file.
#[test]
fn empty_overrides_and_a_bad_log_level_are_refused_by_name() {
    let s = project(Setup::Sqlite);
    let before = s.snapshot();
    for (var, value, says) in [
        ("ESTATE_CONTEXTS", "", "ESTATE_CONTEXTS is set but empty"),
        ("ESTATE_LOG_DIR", "", "ESTATE_LOG_DIR is set but empty"),
        (
            "ESTATE_LANDLORD_PATH",
            "",
            "ESTATE_LANDLORD_PATH is set but empty",
        ),
        (
            "ESTATE_TENANTS_PATH",
            "",
            "ESTATE_TENANTS_PATH is set but empty",
        ),
        ("ESTATE_LOG", "", "ESTATE_LOG is set but empty"),
        (
            "ESTATE_LOG",
            "garbage[[[",
            "the log level \"garbage[[[\" is not a filter",
        ),
    ] {
        for args in [
            &["status"][..],
            &["install", "calendar", "--tenant", "acme"],
        ] {
            let run = s.estate_with_env(args, &[(var, value)]).expect(2);
            assert_has(&run.stderr, says);
            assert_has(&run.stderr, "fix:");
        }
        assert_unchanged(&s, &before, &format!("{var}={value:?}"));
    }
}

/// The landlord and the tenants stay apart, compared as files: a hard link of the landlord or
/// of acme's database where a new tenant would go, and a landlord path aimed at acme's
/// database, are each refused with exit 2 within a second, naming the file and the fix; no
/// registry table is written into acme, and nothing else changes.
#[test]
fn a_landlord_or_tenant_file_under_another_name_is_refused() {
    let s = project(Setup::Sqlite);
    let DbRef::Sqlite(landlord) = s.landlord() else {
        unreachable!("SQLite")
    };
    let DbRef::Sqlite(acme) = s.tenant_db("acme") else {
        unreachable!("SQLite")
    };
    let tenants = acme.parent().unwrap().to_path_buf();
    std::fs::hard_link(&landlord, tenants.join("ll.db")).unwrap();
    std::fs::hard_link(&acme, tenants.join("twin.db")).unwrap();
    let before = s.snapshot();
    for (args, env, says) in [
        (
            &["tenants", "add", "ll"][..],
            None,
            "which is the same file as the landlord's database",
        ),
        (
            &["tenants", "add", "twin"],
            None,
            "which is the same file as tenant acme's database",
        ),
        (
            &["status"],
            Some(acme.to_str().unwrap()),
            "holds a tenant's migrations",
        ),
        (
            &["init"],
            Some(acme.to_str().unwrap()),
            "it is a tenant's database, not the landlord",
        ),
    ] {
        let started = std::time::Instant::now();
        let run = match env {
            Some(path) => s.estate_with_env(args, &[("ESTATE_LANDLORD_PATH", path)]),
            None => s.estate(args),
        }
        .expect(2);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{args:?} took long"
        );
        assert_has(&run.stderr, says);
        assert_has(&run.stderr, "fix:");
        assert_unchanged(&s, &before, &format!("{args:?}"));
    }
    let registry_tables: Vec<String> = tables(&s.tenant_db("acme"))
        .into_iter()
        .filter(|t| t.starts_with("estate_") && t != "estate_ledger")
        .collect();
    assert!(registry_tables.is_empty(), "{registry_tables:?}");
}

/// With `--json`, a refusal (estate's or a usage error) is a JSON object on stdout that a
/// script can read: the message and its fix; exit 2, nothing changed.
#[test]
fn a_refusal_asked_for_as_json_is_json_on_stdout() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    let before = s.snapshot();
    for (args, says) in [
        (
            &["install", "nope", "--all", "--json"][..],
            "unknown module \"nope\"",
        ),
        (
            &["install", "calendar", "--tenant", "ghost", "--json"],
            "ghost",
        ),
        (
            &["install", "--json"],
            "required arguments were not provided",
        ),
        (&["status", "--json", "--bogus"], "--bogus"),
    ] {
        let run = s.estate(args).expect(2);
        let doc = run.json();
        let message = doc["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{args:?}: {doc}");
        assert!(
            !doc["error"]["fix"].as_str().unwrap_or_default().is_empty(),
            "{args:?}: a fix is named: {doc}"
        );
    }
    assert_eq!(s.snapshot(), before);
}
