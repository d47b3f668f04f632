//! A tenant's life beyond install and rollback, on every setup: tags and `--where` (which
//! tenants a command acts on), the config's default modules (what a new tenant gets), and
//! removal (refused while modules remain; `--rollback`, `--drop-database`, confirmation).

mod common;
use common::*;

use serde_json::Value;

fn tags_of(s: &Scratch, slug: &str) -> Value {
    let list = s.estate_json(&["tenants", "list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is not listed: {list:#}"))["tags"]
        .clone()
}

fn slugs_of(rows: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[key].as_str().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Sets `default_modules` in the config's tenancy section.
fn set_default_modules(s: &Scratch, modules: &[&str]) {
    let file = s.path("config/estate.toml");
    let text: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("default_modules"))
        .map(|l| format!("{l}\n"))
        .collect();
    let list: Vec<String> = modules.iter().map(|m| format!("{m:?}")).collect();
    let line = format!("default_modules = [{}]\n", list.join(", "));
    let text = ["[tenants]\n", "[tenancy]\n"]
        .iter()
        .find(|h| text.contains(*h))
        .map(|h| text.replacen(h, &format!("{h}{line}"), 1))
        .expect("the config has a tenancy section");
    std::fs::write(file, text).unwrap();
}

fn tags_select_tenants(setup: Setup) {
    let s = Scratch::with(setup);
    tagged_fleet(&s);
    assert_eq!(
        tags_of(&s, "acme"),
        serde_json::json!({"plan": "enterprise", "region": "eu"})
    );
    let list = s.estate(&["tenants", "list"]).expect(0);
    assert_has(&list.stdout, "plan=enterprise region=eu");

    s.estate(&["install", "calendar", "--where", "plan=free"])
        .expect(0);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "globex", "calendar").0, "installed");
    assert_eq!(state(&status, "initech", "calendar").0, "installed");
    assert_eq!(state(&status, "acme", "calendar").0, "not_installed");

    // `!=` keeps the tenants with another value or no such tag, as a label selector does.
    let rows = s.estate_json(&["status", "--where", "region!=eu", "--json"]);
    assert_eq!(slugs_of(&rows, "tenant"), ["globex", "initech"]);
    let rows = s.estate_json(&[
        "history",
        "--where",
        "plan=free",
        "--where",
        "region=us",
        "--json",
    ]);
    assert_eq!(slugs_of(&rows, "tenant"), ["initech"]);
    let rows = s.estate_json(&["history", "--where", "plan=enterprise", "--json"]);
    assert_eq!(rows, serde_json::json!([]));
    let verify = s.estate_json(&["verify", "--where", "plan=free", "--json"]);
    assert_eq!(verify["findings"], serde_json::json!([]), "{verify:#}");

    // Retagged, a tenant moves between cohorts.
    let run = s
        .estate(&["tenants", "tag", "acme", "plan=free", "tier=gold"])
        .expect(0);
    assert_has(&run.stdout, "plan=free region=eu tier=gold");
    s.estate(&["tenants", "untag", "acme", "tier"]).expect(0);
    assert_eq!(
        tags_of(&s, "acme"),
        serde_json::json!({"plan": "free", "region": "eu"})
    );
    let plan = s.estate_json(&[
        "install",
        "calendar",
        "--where",
        "plan=free",
        "--dry-run",
        "--json",
    ]);
    let planned: Vec<&str> = plan["plan"]["tenant_steps"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, steps)| !steps.as_array().unwrap().is_empty())
        .map(|(t, _)| t.as_str())
        .collect();
    assert_eq!(planned, ["acme"], "only acme still lacks calendar");

    s.estate(&[
        "rollback",
        "calendar",
        "--where",
        "plan=free",
        "--where",
        "region=us",
        "--yes",
    ])
    .expect(0);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "initech", "calendar").0, "not_installed");
    assert_eq!(state(&status, "globex", "calendar").0, "installed");
    s.estate(&["migrate", "--where", "plan=free"]).expect(0);

    let csv = s.estate(&["tenants", "export"]).expect(0).stdout;
    assert_has(&csv, "slug,name,server,path,database,schema,tags");
    assert_has(&csv, "plan=free;region=eu");
}

fn bad_tags_and_conditions_change_nothing(setup: Setup) {
    let s = Scratch::with(setup);
    tagged_fleet(&s);
    let before = s.snapshot();
    let refused: &[(&[&str], &str)] = &[
        (
            &["tenants", "add", "hooli", "--tag", "plan="],
            "tag plan has an empty value",
        ),
        (
            &["tenants", "add", "hooli", "--tag", "=free"],
            "a tag has an empty key",
        ),
        (
            &[
                "tenants", "add", "hooli", "--tag", "plan=a", "--tag", "plan=b",
            ],
            "tag plan is given twice",
        ),
        (
            &["tenants", "tag", "acme", "Plan=x"],
            "tag key \"Plan\" is not valid",
        ),
        (&["tenants", "tag", "acme", "plan=a;b"], "contains ';'"),
        (
            &["tenants", "tag", "nobody", "plan=x"],
            "unknown tenant \"nobody\"",
        ),
        (
            &["tenants", "untag", "acme", "tier"],
            "tenant acme has no tag tier",
        ),
        (
            &["install", "calendar", "--where", "plan"],
            "names no value",
        ),
        (
            &["install", "calendar", "--where", "plan=gold"],
            "no tenant matches --where plan=gold",
        ),
        (
            &["status", "--where", "plan!="],
            "tag plan has an empty value",
        ),
    ];
    for (args, problem) in refused {
        let run = s.estate(args).expect(2);
        assert_has(&run.stderr, problem);
        assert_has(&run.stderr, "fix:");
    }
    assert!(
        s.estate(&["tenants", "list"])
            .expect(0)
            .stdout
            .lines()
            .all(|l| !l.starts_with("hooli"))
    );
    assert_eq!(s.snapshot(), before, "a refusal changed something");
}

fn default_modules_install_with_a_new_tenant(setup: Setup) {
    let s = Scratch::with(setup);
    set_default_modules(&s, &["calendar"]);
    let run = s.estate(&["tenants", "add", "acme"]).expect(0);
    assert_has(&run.stdout, "user_management added: required by calendar");
    s.estate(&["tenants", "add", "globex", "--no-defaults"])
        .expect(0);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "calendar").0, "installed");
    assert_eq!(state(&status, "acme", "user_management").0, "installed");
    assert_eq!(state(&status, "globex", "calendar").0, "not_installed");
    let history = s.estate_json(&["history", "--tenant", "acme", "--json"]);
    assert_eq!(
        slugs_of(&history, "module"),
        ["calendar", "user_management"]
    );

    // A default module that fails leaves the tenant registered, the module failed, exit 1.
    manifest(&s, "broken", "broken", "");
    migration_pair(
        &s,
        "broken",
        "tenant",
        "0001_break",
        "SELECT * FROM no_such_table;\n",
        "",
    );
    set_default_modules(&s, &["broken"]);
    let run = s.estate(&["tenants", "add", "initech", "--json"]).expect(1);
    assert_eq!(run.json()["slug"], "initech");
    let steps = run.json()["defaults"]["report"]["steps"].clone();
    assert!(
        steps.as_array().unwrap().iter().any(|s| s["error"]
            .as_str()
            .is_some_and(|e| e.contains("no_such_table"))),
        "{}",
        run.stdout
    );
    let run = s.estate(&["tenants", "add", "hooli"]).expect(1);
    assert_has(
        &run.stderr,
        "fix: correct the cause above, then run `estate install broken --tenant hooli`",
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "initech", "broken").0, "failed");
    assert_eq!(state(&status, "hooli", "broken").0, "failed");

    // A default module no context provides is refused before the tenant is added.
    set_default_modules(&s, &["calendr"]);
    let before = s.snapshot();
    let run = s.estate(&["tenants", "add", "wayne"]).expect(2);
    assert_has(
        &run.stderr,
        "default_modules names \"calendr\", which no context provides",
    );
    assert_eq!(s.snapshot(), before);
}

fn removal_is_refused_then_rolls_back_and_drops(setup: Setup) {
    let s = Scratch::with(setup);
    tagged_fleet(&s);
    s.estate(&["install", "digital_card", "--tenant", "acme,globex"])
        .expect(0);
    // Read while acme is listed: its database is looked at after it is gone.
    let acme_db = s.tenant_db("acme");
    let before = s.snapshot();
    let run = s.estate(&["tenants", "remove", "acme"]).expect(2);
    assert_has(
        &run.stderr,
        "tenant acme still has modules: digital_card, user_management",
    );
    assert_has(&run.stderr, "--rollback");
    // No terminal here: without --yes nothing is removed.
    let run = s
        .estate(&["tenants", "remove", "acme", "--rollback"])
        .expect(2);
    assert_has(&run.stderr, "pass --yes");
    let run = s
        .estate(&["--read-only", "tenants", "remove", "initech", "--yes"])
        .expect(2);
    assert_has(&run.stderr, "read-only");
    assert_eq!(s.snapshot(), before, "a refused removal changed something");

    // --rollback: dependants first, then the tenant goes; its database stays.
    let run = s
        .estate(&["tenants", "remove", "acme", "--rollback", "--yes"])
        .expect(0);
    let order: Vec<usize> = ["rollback digital_card", "rollback user_management"]
        .iter()
        .map(|step| {
            run.stdout
                .find(step)
                .unwrap_or_else(|| panic!("{step}: {}", run.stdout))
        })
        .collect();
    assert!(order[0] < order[1], "{}", run.stdout);
    assert_has(&run.stdout, "removed tenant acme");
    assert_has(&run.stdout, "its database is kept at");
    assert!(
        s.tenant_provisioned("acme"),
        "the database is kept without --drop-database"
    );
    assert!(!has_table(&acme_db, "user_profiles"), "rolled back");
    let history = s.estate_json(&["history", "--tenant", "acme", "--json"]);
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["module"].as_str()),
        (Some("remove"), None)
    );
    assert!(!last["operator"].as_str().unwrap().is_empty());
    // globex keeps user_management's landlord scope: the landlord was not rolled back.
    assert_eq!(
        state(
            &s.estate_json(&["status", "--json"]),
            "globex",
            "user_management"
        )
        .0,
        "installed"
    );

    // --drop-database drops the file, the schema or the database.
    let run = s.estate_json(&[
        "tenants",
        "remove",
        "initech",
        "--drop-database",
        "--yes",
        "--json",
    ]);
    assert_eq!(run["removed"]["dropped"], true);
    assert!(
        !s.tenant_provisioned("initech"),
        "initech's database is gone"
    );
    assert!(s.tenant_provisioned("globex"), "no other tenant's");
    let slugs: Vec<String> = slugs_of(&s.estate_json(&["tenants", "list", "--json"]), "slug");
    assert_eq!(slugs, ["globex"]);
    // The database kept is no tenant's now, and verify says so; the slug is free again.
    let verify = s.estate(&["verify"]).expect(1);
    assert_has(&verify.stdout, "acme");
    s.estate(&["tenants", "add", "initech", "--tag", "plan=free"])
        .expect(0);
}

on_every_setup!(
    tags_select_tenants,
    bad_tags_and_conditions_change_nothing,
    default_modules_install_with_a_new_tenant,
    removal_is_refused_then_rolls_back_and_drops,
);

#[test]
fn an_import_takes_tags_and_installs_the_defaults_when_asked() {
    let s = Scratch::new();
    set_default_modules(&s, &["calendar"]);
    s.estate(&["init"]).expect(0);
    for t in ["old1", "old2"] {
        s.write(&format!("var/tenants/{t}.db"), "");
    }
    s.write(
        "tenants.csv",
        "slug,path,tags\nold1,var/tenants/old1.db,plan=enterprise;region=eu\nold2,var/tenants/old2.db,\n",
    );
    s.estate(&["tenants", "import", "tenants.csv", "--install-defaults"])
        .expect(0);
    assert_eq!(
        tags_of(&s, "old1"),
        serde_json::json!({"plan": "enterprise", "region": "eu"})
    );
    assert_eq!(tags_of(&s, "old2"), serde_json::json!({}));
    assert_state_on(&s, &["old1", "old2"], "calendar", st("installed", 4, 0));

    s.write(
        "bad.csv",
        "slug,path,tags\nold3,var/tenants/old3.db,plan=\n",
    );
    s.write("var/tenants/old3.db", "");
    let run = s.estate(&["tenants", "import", "bad.csv"]).expect(2);
    assert_has(&run.stderr, "line 2 (old3): tag plan has an empty value");
}

#[test]
fn on_a_terminal_the_slug_is_typed_to_remove_a_tenant() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the typed confirmation is not tried");
        return;
    }
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    let remove = ["tenants", "remove", "acme", "--drop-database"];
    let tmux = Tmux::start_with(&s, 160, 20, &remove);
    let asked = tmux.wait_for("the question", |sc| {
        sc.contains("Type the tenant's slug (acme) to confirm")
    });
    assert_has(&asked, "DROP its database var/tenants/acme.db");
    tmux.keys(&["acm", "Enter"]);
    let refused = tmux.wait_for("the refusal", |sc| sc.contains("estate exited 2"));
    assert_has(
        &refused,
        "the slug typed does not match: nothing was changed",
    );
    assert!(s.path("var/tenants/acme.db").exists());
    drop(tmux);

    let tmux = Tmux::start_with(&s, 160, 20, &remove);
    tmux.wait_for("the question", |sc| sc.contains("to confirm"));
    tmux.keys(&["acme", "Enter"]);
    let done = tmux.wait_for("the removal", |sc| sc.contains("estate exited 0"));
    assert_has(&done, "removed tenant acme");
    assert!(!s.path("var/tenants/acme.db").exists());
}
