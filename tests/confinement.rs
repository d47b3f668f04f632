//! No one where they should not be: a registry row edited by hand cannot aim a tenant's
//! migrations outside the tenant folder or at the landlord; a symbolic link planted in the
//! tenant folder is refused, and the file it points at is left alone; a new tenant never
//! adopts the landlord's or another tenant's database; the environment cannot undo
//! `read_only = true`; a server URL's secrets are never shown; and the library makes its
//! files owner-only whatever the umask of the program that uses it.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;

/// The install is refused with exit 2, naming the problem and the fix, and nothing changed.
fn refused_unchanged(s: &Scratch, args: &[&str], needle: &str) -> String {
    let before = s.snapshot();
    let run = s.estate(args);
    assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
    assert_has(&run.stderr, needle);
    assert_has(&run.stderr, "fix:");
    assert!(s.snapshot() == before, "{args:?} changed something");
    run.stderr
}

#[test]
fn a_registry_row_edited_to_point_outside_the_tenant_folder_is_refused() {
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.db");
    std::fs::write(&victim, "").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.path("var/tenants/sub")).unwrap();
    for (location, why) in [
        (
            "../outside/victim.db".to_string(),
            "outside the tenant folder",
        ),
        (victim.display().to_string(), "outside the tenant folder"),
        (
            "var/tenants/../landlord.db".to_string(),
            "outside the tenant folder",
        ),
        ("var/landlord.db".to_string(), "outside the tenant folder"),
        ("var/tenants/sub/globex.db".to_string(), "a symbolic link"),
        ("var/tenants/./acme.db".to_string(), "roundabout"),
        ("var/tenants/acme.db".to_string(), "both at"),
    ] {
        exec(
            &s.landlord(),
            &format!(
                "UPDATE estate_tenants SET location = '{}' WHERE slug = 'globex'",
                location.replace('\'', "''")
            ),
        );
        let err = refused_unchanged(&s, &["install", "billing", "--tenant", "globex"], why);
        assert_has(&err, "the registry places");
        assert_has(&err, "estate_tenants");
        refused_unchanged(&s, &["install", "billing", "--all"], why);
    }
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"",
        "the file outside was touched"
    );
    assert!(!victim.with_extension("db.lock").exists());
}

#[test]
fn a_registry_row_with_a_hostile_slug_is_refused() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    exec(
        &s.landlord(),
        "INSERT INTO estate_tenants (slug, name, engine, server, location, schema_name, created_at)
         SELECT '../../etc/x', name, engine, server, location, schema_name, created_at
         FROM estate_tenants WHERE slug = 'acme'",
    );
    let err = refused_unchanged(&s, &["install", "billing", "--all"], "is not valid");
    assert_has(&err, "../../etc/x");
    refused_unchanged(&s, &["tenants", "list"], "is not valid");
}

on_postgres_setups!(a_registry_row_pointing_at_the_landlord_is_refused);
fn a_registry_row_pointing_at_the_landlord_is_refused(setup: Setup) {
    let s = with_tenants(setup, &["acme"]);
    let landlord = match s.landlord() {
        DbRef::Postgres { database, .. } => database,
        DbRef::Sqlite(_) => unreachable!(),
    };
    let sql = match setup {
        // Its database made the landlord's, on the landlord's server.
        Setup::PgDatabase => format!(
            "UPDATE estate_tenants SET location = '{landlord}', server = 'pg1' WHERE slug = 'acme'"
        ),
        // Its schema taken away: the shared database, unpinned, would put tables in public.
        _ => "UPDATE estate_tenants SET schema_name = NULL WHERE slug = 'acme'".to_string(),
    };
    exec(&s.landlord(), &sql);
    let needle = match setup {
        Setup::PgDatabase => "which is the landlord's database",
        _ => "with no schema of its own",
    };
    refused_unchanged(&s, &["install", "billing", "--tenant", "acme"], needle);
    // Any tenant's schema made public, or the catalog's.
    for schema in ["public", "pg_catalog"] {
        exec(
            &s.landlord(),
            &format!("UPDATE estate_tenants SET schema_name = '{schema}' WHERE slug = 'acme'"),
        );
        refused_unchanged(
            &s,
            &["install", "billing", "--tenant", "acme"],
            "which is no tenant's own",
        );
    }
}

#[test]
fn symbolic_links_in_the_tenant_folder_are_refused_and_their_targets_left_alone() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.db");
    let precious = outside.path().join("precious.txt");
    std::fs::write(&victim, "").unwrap();
    std::fs::write(&precious, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, s.path("var/tenants/evil.db")).unwrap();
    std::os::unix::fs::symlink(&precious, s.path("var/tenants/evil.db.lock")).unwrap();
    let run = s.estate(&["tenants", "add", "evil"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_has(&run.stderr, "symbolic link");
    assert_eq!(std::fs::read(&victim).unwrap(), b"");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");

    // A tenant's own database swapped for a link, and its lock file for another.
    let acme = s.path("var/tenants/acme.db");
    std::fs::rename(&acme, outside.path().join("acme.db")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("acme.db"), &acme).unwrap();
    // Found when the job opens it (the plan reads the registry alone): that tenant fails,
    // nothing reaches the file behind the link.
    let run = s.estate(&["install", "billing", "--tenant", "acme"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_has(&format!("{}{}", run.stdout, run.stderr), "symbolic link");
    assert!(!has_table(
        &DbRef::Sqlite(outside.path().join("acme.db")),
        "invoices"
    ));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
}

#[test]
fn a_new_tenant_never_adopts_the_landlords_database() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    let template = format!("{}/var/{{slug}}.db", s.root().display());
    let before = s.snapshot();
    let run = s.estate_with_env(
        &["tenants", "add", "landlord"],
        &[("ESTATE_TENANTS_PATH", template.as_str())],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_has(&run.stderr, "which is the landlord's database");
    assert!(s.snapshot() == before, "the refused add changed something");
}

#[test]
fn the_environment_cannot_undo_read_only_in_the_config() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    let config = std::fs::read_to_string(s.path("config/estate.toml")).unwrap();
    s.write("config/estate.toml", format!("read_only = true\n{config}"));
    let before = s.snapshot();
    for value in ["", "0", "false"] {
        let run = s.estate_with_env(
            &["install", "billing", "--tenant", "acme"],
            &[("ESTATE_READ_ONLY", value)],
        );
        assert_eq!(run.code, 2, "ESTATE_READ_ONLY={value:?}: {}", run.stderr);
        assert_has(&run.stderr, "read-only");
    }
    assert!(s.snapshot() == before);
}

#[test]
fn a_server_urls_secrets_are_never_shown() {
    let s = Scratch::new();
    let config = std::fs::read_to_string(s.path("config/estate.toml")).unwrap();
    for url in [
        "postgres://estate:S3cretPW@127.0.0.1:1/estate",
        "postgres://estate@127.0.0.1:1/estate?sslmode=S3cretPW",
        "postgres://estate:S3cretPW@[::1/estate",
    ] {
        s.write(
            "config/estate.toml",
            format!("{config}\n[[servers]]\nname = \"pg9\"\nurl = \"{url}\"\n"),
        );
        for args in [&["check"][..], &["status", "--json"], &["tenants", "list"]] {
            let run = s.estate(args);
            let said = format!("{}{}", run.stdout, run.stderr);
            assert!(!said.contains("S3cretPW"), "{url} {args:?}:\n{said}");
        }
    }
    for entry in std::fs::read_dir(s.path("var/log")).into_iter().flatten() {
        let log = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!log.contains("S3cretPW"), "the log shows the secret");
    }
}

/// The library, used by a program that never set a umask, still makes owner-only files.
#[tokio::test(flavor = "multi_thread")]
async fn the_library_makes_owner_only_files_whatever_the_umask() {
    // SAFETY: umask is process-wide and always succeeds.
    unsafe { libc::umask(0o022) };
    let s = Scratch::empty();
    let config = estate_engine::config::Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    let project = estate_engine::Project::create(config).await.unwrap();
    project.add_tenant("acme", None, None).await.unwrap();
    project.close().await;
    let mode = |rel: &str| {
        std::fs::metadata(s.path(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    for (rel, want) in [
        ("var", 0o700),
        ("var/tenants", 0o700),
        ("var/landlord.db", 0o600),
        ("var/tenants/acme.db", 0o600),
    ] {
        assert_eq!(mode(rel), want, "{rel}: {:o}", mode(rel));
    }
}
