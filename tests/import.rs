//! `estate tenants import` registers tenants whose databases exist already, creating nothing:
//! a file with one bad row is refused whole (exit 2, each bad line named, nothing registered)
//! unless `--skip-invalid`; `tenants export` writes the same format back; `tenants add
//! --existing` does the same for one tenant.

mod common;
use common::*;

use std::io::Write;

fn registered(s: &Scratch) -> Vec<String> {
    s.estate_json(&["tenants", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn existing_sqlite_files_are_imported_and_one_bad_line_refuses_the_file() {
    let s = Scratch::new();
    s.estate(&["init"]).expect(0);
    for t in ["old1", "old2", "old3"] {
        s.write(&format!("var/tenants/{t}.db"), "");
    }
    s.write(
        "tenants.csv",
        "slug,name,path\n\
         old1,Old One,var/tenants/old1.db\n\
         old2,\"Two, Inc\",var/tenants/old2.db\n\
         gone,,var/tenants/gone.db\n\
         old1,,var/tenants/old3.db\n\
         away,,/etc/hostname\n",
    );
    let run = s.estate(&["tenants", "import", "tenants.csv"]).expect(2);
    assert_has(&run.stderr, "3 row(s) refused, so nothing was registered");
    assert_has(
        &run.stderr,
        "line 4 (gone): its database (var/tenants/gone.db) does not exist",
    );
    assert_has(&run.stderr, "line 5 (old1): tenant old1 is there already");
    assert_has(&run.stderr, "line 6 (away)");
    assert_has(&run.stderr, "--skip-invalid");
    assert!(
        registered(&s).is_empty(),
        "a refused import registers nothing"
    );
    assert!(
        !s.path("var/tenants/gone.db").exists(),
        "nor creates anything"
    );

    let run = s
        .estate(&[
            "tenants",
            "import",
            "tenants.csv",
            "--skip-invalid",
            "--json",
        ])
        .expect(1);
    let report = run.json();
    assert_eq!(report["registered"], serde_json::json!(["old1", "old2"]));
    assert_eq!(report["refused"].as_array().unwrap().len(), 3);
    assert_eq!(registered(&s), ["old1", "old2"]);

    // Installable like any tenant.
    s.estate(&["install", "calendar", "--all"]).expect(0);

    // Export writes what import reads; the same file again registers nothing new.
    let csv = s.estate(&["tenants", "export"]).expect(0).stdout;
    assert_eq!(
        csv,
        "slug,name,server,path,database,schema,tags\n\
         old1,Old One,,var/tenants/old1.db,,,\n\
         old2,\"Two, Inc\",,var/tenants/old2.db,,,\n"
    );
    let jsonl = s
        .estate(&["tenants", "export", "--format", "jsonl"])
        .expect(0)
        .stdout;
    assert_has(
        &jsonl,
        "{\"slug\":\"old2\",\"name\":\"Two, Inc\",\"path\":\"var/tenants/old2.db\"}",
    );

    // One at a time: the file where the tenancy path puts it.
    let run = s
        .estate(&["tenants", "add", "old3", "--existing"])
        .expect(0);
    assert_has(&run.stdout, "added tenant old3");
    let run = s
        .estate(&["tenants", "add", "new4", "--existing"])
        .expect(2);
    assert_has(
        &run.stderr,
        "its database (var/tenants/new4.db) does not exist",
    );
    assert!(
        !s.path("var/tenants/new4.db").exists(),
        "--existing creates nothing"
    );
}

#[test]
fn an_empty_path_is_where_the_tenancy_path_puts_the_tenant() {
    let s = Scratch::new();
    s.estate(&["init"]).expect(0);
    s.write("var/tenants/kept.db", "");
    s.write("tenants.csv", "slug,name,path\nkept,Kept,\nlost,,\n");
    let run = s.estate(&["tenants", "import", "tenants.csv"]).expect(2);
    assert_has(
        &run.stderr,
        "line 3 (lost): its database (var/tenants/lost.db) does not exist",
    );
    assert!(registered(&s).is_empty());
    s.write("tenants.csv", "slug,name,path\nkept,Kept,\n");
    s.estate(&["tenants", "import", "tenants.csv"]).expect(0);
    assert_eq!(
        s.estate(&["tenants", "export"]).expect(0).stdout,
        "slug,name,server,path,database,schema,tags\nkept,Kept,,var/tenants/kept.db,,,\n"
    );
}

#[test]
fn a_file_that_is_not_rows_of_tenants_is_refused_by_line() {
    let s = Scratch::new();
    s.estate(&["init"]).expect(0);
    s.write("plans.csv", "slug,plan\nacme,pro\n");
    let run = s.estate(&["tenants", "import", "plans.csv"]).expect(2);
    assert_has(&run.stderr, "plans.csv, line 1: unknown column \"plan\"");
    s.write(
        "t.jsonl",
        "{\"slug\":\"a\",\"path\":\"var/tenants/a.db\"}\nnot json\n",
    );
    let run = s.estate(&["tenants", "import", "t.jsonl"]).expect(2);
    assert_has(&run.stderr, "t.jsonl, line 2:");
    // Standard input, JSON lines by flag.
    s.write("var/tenants/a.db", "");
    let mut child = s
        .estate_command(&["tenants", "import", "-", "--format", "jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"slug\":\"a\",\"path\":\"var/tenants/a.db\"}\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(registered(&s), ["a"]);
}

on_postgres_setups!(existing_postgres_tenants_are_imported_from_their_export);
/// Databases (or schemas) made before the registry knew them: provisioned, forgotten by the
/// registry, and imported back from the export, with their modules' ledgers intact.
fn existing_postgres_tenants_are_imported_from_their_export(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&["acme", "globex"]);
    let export = s.estate(&["tenants", "export"]).expect(0).stdout;
    exec(&s.landlord(), "DELETE FROM estate_tenants");
    assert!(registered(&s).is_empty());
    s.write("back.csv", format!("{export}ghost,,pg1,nowhere_db,,,\n"));
    let run = s.estate(&["tenants", "import", "back.csv"]).expect(2);
    assert_has(&run.stderr, "line 4 (ghost)");
    assert!(registered(&s).is_empty());
    s.write("back.csv", &export);
    s.estate(&["tenants", "import", "back.csv"]).expect(0);
    assert_eq!(registered(&s), ["acme", "globex"]);
    // A row that leaves its database (and schema) empty is where the tenancy's templates put
    // it, as `tenants add --existing` has it.
    let server = export
        .lines()
        .find(|l| l.starts_with("globex,"))
        .and_then(|l| l.split(',').nth(2))
        .expect("globex's server in the export")
        .to_string();
    exec(
        &s.landlord(),
        "DELETE FROM estate_tenants WHERE slug = 'globex'",
    );
    s.write("templated.csv", format!("slug,server\nglobex,{server}\n"));
    s.estate(&["tenants", "import", "templated.csv"]).expect(0);
    assert_eq!(s.estate(&["tenants", "export"]).expect(0).stdout, export);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    s.estate(&["verify"]).expect(0);
}
