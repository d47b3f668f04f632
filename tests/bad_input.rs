//! Bad input is refused before anything runs: exit status 2, a message that names the problem
//! and the fix, and every database byte-for-byte as it was.
//!
//! Each test sets up the same project (tenants acme and globex, digital_card installed for
//! acme), takes a snapshot of every file under var/, breaks one thing, and compares.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// tenants acme and globex; digital_card (and so user_management) installed for acme.
fn setup() -> Scratch {
    let s = digital_card_for_acme();
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
    s
}

/// Compares two snapshots file by file, naming what differs.
fn assert_unchanged(s: &Scratch, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let after = s.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{what}: files under var/ appeared or vanished"
    );
    for (path, bytes) in before {
        assert!(after[path] == *bytes, "{what}: {} changed", path.display());
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

#[test]
fn unknown_module() {
    let s = setup();
    let err = refused(&s, &["install", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
    assert_has(&err, "calendar");
    let err = refused(&s, &["rollback", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
}

#[test]
fn unknown_tenant() {
    let s = setup();
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

#[test]
fn bad_slugs_for_tenants_add() {
    let s = setup();
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

#[test]
fn bad_slugs_for_install_tenant() {
    let s = setup();
    for slug in BAD_SLUGS {
        let err = refused(&s, &["install", "calendar", "--tenant", slug]);
        assert_slug_message(&err, slug);
        let err = refused(&s, &["rollback", "digital_card", "--tenant", slug]);
        assert_slug_message(&err, slug);
    }
}

#[test]
fn suggested_slug_is_valid() {
    let s = setup();
    let err = refused(&s, &["tenants", "add", "a;drop table t"]);
    assert_has(&err, "e.g. a-drop-table-t");
}

#[test]
fn adding_an_existing_tenant() {
    let s = setup();
    let err = refused(&s, &["tenants", "add", "acme"]);
    assert_has(&err, "tenant acme already exists");
    let err = refused(&s, &["tenants", "add", "acme", "--name", "Acme Two"]);
    assert_has(&err, "already exists");
}

#[test]
fn rolling_back_a_module_another_installed_module_requires() {
    let s = setup();
    let err = refused(&s, &["rollback", "user_management", "--tenant", "acme"]);
    assert_has(&err, "digital_card requires user_management");
    assert_has(&err, "--cascade");
}

#[test]
fn install_without_tenant_or_all() {
    let s = setup();
    let before = s.snapshot();
    let run = s.estate(&["install", "calendar"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_has(&run.stderr, "--all");
    assert_unchanged(&s, &before, "install without --tenant/--all");
    let run = s.estate(&["rollback", "digital_card"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_unchanged(&s, &before, "rollback without --tenant/--all");
}

#[test]
fn read_only_refuses_changes() {
    let s = setup();
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
    assert!(!s.tenant_db("initech").exists());
}

// --- catalog problems introduced after setup ------------------------------------------------

/// Breaks the catalog with `break_it`, then expects install and rollback to be refused naming
/// `needle`, with nothing changed.
fn refused_with_broken_catalog(break_it: impl Fn(&Scratch), needle: &str) {
    let s = setup();
    break_it(&s);
    let err = refused(&s, &["install", "calendar", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(&s, &["rollback", "digital_card", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(&s, &["migrate", "--all"]);
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

#[test]
fn catalog_up_without_down() {
    refused_with_broken_catalog(
        |s| {
            calendar_file(
                s,
                "0004_add_color.up.sql",
                "ALTER TABLE events ADD COLUMN color TEXT;\n",
            )
        },
        "0004_add_color.up.sql: has no .down.sql",
    );
}

#[test]
fn catalog_down_without_up() {
    refused_with_broken_catalog(
        |s| calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n"),
        "0004_add_color.down.sql: has no .up.sql",
    );
}

#[test]
fn catalog_name_differs_from_folder() {
    refused_with_broken_catalog(
        |s| manifest(s, "notes", "note", ""),
        "contexts/notes/context.toml:1:8",
    );
}

#[test]
fn catalog_bad_name() {
    refused_with_broken_catalog(
        |s| manifest(s, "Notes", "Notes", ""),
        "context name \"Notes\" is not valid",
    );
}

#[test]
fn catalog_unknown_key() {
    refused_with_broken_catalog(
        |s| {
            manifest(
                s,
                "calendar",
                "calendar",
                "require = [\"user_management\"]\n",
            )
        },
        "contexts/calendar/context.toml:4:1",
    );
}

#[test]
fn catalog_duplicate_version() {
    refused_with_broken_catalog(
        |s| calendar_pair(s, "3_dup"),
        "version 3 is used more than once",
    );
}

#[test]
fn catalog_non_numeric_version() {
    refused_with_broken_catalog(
        |s| calendar_pair(s, "abc_x"),
        "abc_x.up.sql: version \"abc\" is not a number",
    );
}

#[test]
fn catalog_requires_no_context() {
    refused_with_broken_catalog(
        |s| manifest(s, "notes", "notes", "requires = [\"ghost\"]\n"),
        "\"ghost\", which is no context",
    );
}

#[test]
fn catalog_cycle() {
    refused_with_broken_catalog(
        |s| {
            manifest(s, "a", "a", "requires = [\"b\"]\n");
            manifest(s, "b", "b", "requires = [\"c\"]\n");
            manifest(s, "c", "c", "requires = [\"a\"]\n");
        },
        "a -> b -> c -> a",
    );
}

#[test]
fn catalog_file_not_utf8() {
    refused_with_broken_catalog(
        |s| {
            calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n");
            calendar_file(s, "0004_add_color.up.sql", b"SELECT '\xff';\n");
        },
        "0004_add_color.up.sql: is not valid UTF-8",
    );
}

#[test]
fn catalog_unreadable_file() {
    refused_with_broken_catalog(
        |s| make_unreadable(&s.path(&format!("{CAL_TENANT}/0001_create_calendars.up.sql"))),
        "0001_create_calendars.up.sql: cannot be read",
    );
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
    let actual = estate::catalog::checksum(&text);
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
fn refused_after_drift(context: &str, args: &[&str]) -> Scratch {
    let s = setup();
    let (file, recorded, actual) = drift(&s, context);
    let err = refused(&s, args);
    assert_names_drift(&err, &file, &recorded, &actual);
    s
}

#[test]
fn drift_refuses_rolling_back_the_changed_module() {
    let s = refused_after_drift(
        "digital_card",
        &["rollback", "digital_card", "--tenant", "acme"],
    );
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
}

#[test]
fn drift_in_an_installed_module_refuses_installing_another_on_that_tenant() {
    // digital_card's applied tenant migration changed; installing calendar on the same tenant
    // database must be refused until the file is restored.
    refused_after_drift("digital_card", &["install", "calendar", "--tenant", "acme"]);
}

#[test]
fn drift_in_a_required_module_refuses_the_install() {
    refused_after_drift(
        "user_management",
        &["install", "calendar", "--tenant", "acme"],
    );
}

#[test]
fn crlf_line_endings_are_not_drift() {
    let s = setup();
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
