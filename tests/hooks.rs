//! `[[hooks]]`, on every setup: each event reaches the command that follows it as one JSON
//! object on its standard input, after the registry recorded it; a failing or hanging hook is
//! reported with the job and never fails it; a hook whose program is missing refuses the
//! config. Library code hears the same events through `Project::subscribe`.

mod common;
use common::*;

use estate_engine::config::Config;
use estate_engine::{JobControl, Project, Slug, TenantSelection};
use serde_json::Value;

/// Writes the hook programs and appends `hooks` (TOML) to the config.
fn with_hooks(s: &Scratch, hooks: &str) {
    s.write("bin/record", "#!/bin/sh\ncat >> \"var/hook-$1.jsonl\"\n");
    s.write("bin/fail", "#!/bin/sh\necho 'chat is down' >&2\nexit 3\n");
    for p in ["bin/record", "bin/fail"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(s.path(p), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let file = s.path("config/estate.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(hooks);
    std::fs::write(file, text).unwrap();
}

/// The events hook `name` received, in order.
fn received(s: &Scratch, name: &str) -> Vec<Value> {
    std::fs::read_to_string(s.path(&format!("var/hook-{name}.jsonl")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const HOOKS: &str = r#"
[[hooks]]
on = "module_installed"
command = ["bin/record", "installed"]

[[hooks]]
on = "module_rolled_back"
command = ["bin/record", "rolled_back"]

[[hooks]]
on = "tenant_failed"
command = ["bin/record", "failed"]

[[hooks]]
on = "job_finished"
command = ["bin/fail"]
"#;

fn hooks_hear_what_the_registry_recorded(setup: Setup) {
    let s = Scratch::with(setup);
    with_hooks(&s, HOOKS);
    s.add_tenants(&["acme"]);
    let run = s
        .estate(&["install", "calendar", "--tenant", "acme", "--json"])
        .expect(0);
    let installed = received(&s, "installed");
    // Hooks run a few at a time: each event reaches its command once, in no promised order.
    let mut pairs: Vec<(&str, &str)> = installed
        .iter()
        .map(|e| (e["tenant"].as_str().unwrap(), e["module"].as_str().unwrap()))
        .collect();
    pairs.sort();
    assert_eq!(pairs, [("acme", "calendar"), ("acme", "user_management")]);
    let calendar = installed
        .iter()
        .find(|e| e["module"] == "calendar")
        .unwrap();
    assert_eq!(calendar["event"], "module_installed");
    assert_eq!(calendar["migrations"], serde_json::json!([1, 2, 3]));
    assert_eq!(calendar["module_version"], "1.0.0");
    assert_eq!(calendar["job_id"], run.json()["report"]["job_id"]);
    assert!(!calendar["operator"].as_str().unwrap().is_empty());
    // The failing job_finished hook is in the report; the job succeeded all the same.
    let hooks = &run.json()["report"]["hooks"];
    assert_eq!(hooks[0]["on"], "job_finished", "{hooks:#}");
    assert_has(hooks[0]["error"].as_str().unwrap(), "chat is down");
    assert_state_on(&s, &["acme"], "calendar", st("installed", 4, 0));

    s.estate(&["rollback", "calendar", "--tenant", "acme", "--yes"])
        .expect(0);
    let rolled: Vec<Value> = received(&s, "rolled_back");
    assert_eq!(rolled.len(), 1);
    assert_eq!(
        (
            rolled[0]["module"].as_str(),
            rolled[0]["migrations"].clone()
        ),
        (Some("calendar"), serde_json::json!([3, 2, 1]))
    );

    migration_pair(
        &s,
        "calendar",
        "tenant",
        "0004_broken",
        "SELECT * FROM no_such_table;\n",
        "",
    );
    let run = s
        .estate(&["install", "calendar", "--tenant", "acme"])
        .expect(1);
    assert_has(&run.stdout, "hook failed on job_finished (bin/fail)");
    let failed = received(&s, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["tenant"], "acme");
    assert_has(failed[0]["error"].as_str().unwrap(), "no_such_table");
}

fn a_hook_that_hangs_is_killed_and_a_missing_one_refused(setup: Setup) {
    let s = Scratch::with(setup);
    with_hooks(
        &s,
        "[[hooks]]\non = \"module_installed\"\ncommand = [\"sleep\", \"30\"]\ntimeout_seconds = 1\n",
    );
    s.add_tenants(&["acme"]);
    let run = s
        .estate(&["install", "user_management", "--tenant", "acme"])
        .expect(0);
    assert_has(&run.stdout, "did not end within 1 s and was killed");

    let before = s.snapshot();
    for (hook, problem) in [
        (
            "command = [\"no-such-program-here\"]",
            "runs \"no-such-program-here\", which is not an executable file",
        ),
        ("command = []", "has an empty command"),
        (
            "command = [\"bin/record\"]\ntimeout_seconds = 0",
            "timeout_seconds = 0",
        ),
    ] {
        let s2 = &s;
        let file = s2.path("config/estate.toml");
        let kept = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            format!("{kept}\n[[hooks]]\non = \"job_finished\"\n{hook}\n"),
        )
        .unwrap();
        let run = s2
            .estate(&["install", "calendar", "--tenant", "acme"])
            .expect(2);
        assert_has(&run.stderr, problem);
        std::fs::write(&file, kept).unwrap();
    }
    let file = s.path("config/estate.toml");
    let kept = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{kept}\n[[hooks]]\non = \"module_exploded\"\ncommand = [\"bin/record\"]\n"),
    )
    .unwrap();
    assert_has(&s.estate(&["status"]).expect(2).stderr, "module_exploded");
    std::fs::write(&file, kept).unwrap();
    assert_eq!(s.snapshot(), before, "a refused config changed something");
}

on_every_setup!(
    hooks_hear_what_the_registry_recorded,
    a_hook_that_hangs_is_killed_and_a_missing_one_refused,
);

#[tokio::test(flavor = "multi_thread")]
async fn library_code_subscribes_to_the_same_events() {
    let s = Scratch::new();
    let config = Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    let project = Project::create_with(config, Default::default())
        .await
        .unwrap();
    project.add_tenant("acme", None, None).await.unwrap();
    let mut events = project.subscribe();
    let selection = TenantSelection::Only(vec![Slug::parse("acme").unwrap()]);
    let plan = project
        .plan_install(&["calendar".into()], &selection)
        .await
        .unwrap();
    let report = project
        .run(&plan, None, JobControl::default())
        .await
        .unwrap();
    assert!(report.is_success());
    let mut heard = Vec::new();
    while let Ok(e) = events.try_recv() {
        heard.push((e.event.as_str(), e.module.clone()));
    }
    assert_eq!(
        heard,
        [
            ("module_installed", Some("user_management".to_string())),
            ("module_installed", Some("calendar".to_string())),
            ("job_finished", None),
        ]
    );
    project.close().await;
}
