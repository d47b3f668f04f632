//! Installing a module for one tenant (with the modules it requires), rolling it back, and the
//! record both leave: the tables in the right databases, the ledgers, the registry's status and
//! the history. This is the acceptance flow of the foundation issue, run for real on each setup
//! (`common::Setup`): SQLite files, and PostgreSQL with a database or a schema per tenant, the
//! tenants spread over two servers.

mod common;
use common::*;

use serde_json::{Value, json};

/// An expected ledger row, to compare with `ledger`.
fn l(context: &str, scope: &str, version: i64) -> (String, String, i64) {
    (context.to_string(), scope.to_string(), version)
}

/// (tenant or "-", module, scope, action, outcome, migrations) of every history row.
fn history_rows(h: &Value) -> Vec<(String, String, String, String, String, String)> {
    h.as_array()
        .expect("history --json is an array")
        .iter()
        .map(|r| {
            (
                r["tenant"].as_str().unwrap_or("-").to_string(),
                r["module"].as_str().unwrap().to_string(),
                r["scope"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
                r["migrations"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An expected history row of a step that succeeded, to compare with `history_rows`.
fn h(
    tenant: &str,
    module: &str,
    scope: &str,
    action: &str,
    migrations: &str,
) -> (String, String, String, String, String, String) {
    (
        tenant.to_string(),
        module.to_string(),
        scope.to_string(),
        action.to_string(),
        "succeeded".to_string(),
        migrations.to_string(),
    )
}

/// The JSON plan of `install digital_card --tenant acme --json --dry-run`.
fn install_digital_card_dry_run(s: &Scratch) -> Value {
    s.estate_json(&[
        "install",
        "digital_card",
        "--tenant",
        "acme",
        "--json",
        "--dry-run",
    ])
}

/// Runs `rollback user_management --tenant acme --cascade` with `extra` arguments; it succeeds.
fn cascade_rollback_user_management(s: &Scratch, extra: &[&str]) -> Run {
    let args = [
        &[
            "rollback",
            "user_management",
            "--tenant",
            "acme",
            "--cascade",
        ],
        extra,
    ]
    .concat();
    s.estate(&args).expect(0)
}

on_every_setup!(tenants_add_provisions_an_empty_database_and_lists_it);
fn tenants_add_provisions_an_empty_database_and_lists_it(setup: Setup) {
    let s = two_tenants(setup);
    assert!(s.tenant_db("acme").exists());
    assert!(s.tenant_db("globex").exists());
    assert_eq!(tables(&s.tenant_db("acme")), Vec::<String>::new());
    assert_eq!(tables(&s.tenant_db("globex")), Vec::<String>::new());
    let list = s.estate_json(&["tenants", "list", "--json"]);
    assert_eq!(pluck(&list, "slug"), ["acme", "globex"]);
    for t in list.as_array().unwrap() {
        assert_eq!(t["modules"], json!([]), "{t}");
    }

    // The placement: recorded in the landlord, shown by `tenants list`, as the config says.
    let engine = if setup.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(pluck(&list, "engine"), [engine, engine]);
    if setup.is_postgres() {
        // Default placement: the server with the fewest tenants, ties to the first.
        assert_eq!(s.tenant_server("acme"), "pg1");
        assert_eq!(s.tenant_server("globex"), "pg2");
        let (acme, globex) = match setup {
            Setup::PgDatabase => (
                format!("pg1:{}_acme", s.prefix()),
                format!("pg2:{}_globex", s.prefix()),
            ),
            _ => (
                format!("pg1:{}_tenants.t_acme", s.prefix()),
                format!("pg2:{}_tenants.t_globex", s.prefix()),
            ),
        };
        assert_eq!((s.placement("acme"), s.placement("globex")), (acme, globex));
    } else {
        assert_eq!(
            pluck(&list, "location"),
            ["var/tenants/acme.db", "var/tenants/globex.db"]
        );
    }
    let human = s.estate(&["tenants", "list"]).expect(0);
    for t in ["acme", "globex"] {
        assert_has(line_starting(&human.stdout, t), &s.placement(t));
    }
    let rows = query(
        &s.landlord(),
        "SELECT slug FROM estate_tenants ORDER BY slug",
    );
    assert_eq!(rows, vec![names(&["acme"]), names(&["globex"])]);
}

on_every_setup!(install_digital_card_for_acme_installs_user_management_first_and_only_for_acme);
fn install_digital_card_for_acme_installs_user_management_first_and_only_for_acme(setup: Setup) {
    let s = two_tenants(setup);
    let run = s
        .estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);

    // The plan: user_management comes first, and the plan says why it is there.
    let out = &run.stdout;
    assert_has(out, "user_management added: required by digital_card");
    let um = out.find("install user_management [landlord]").expect(out);
    let dc = out.find("install digital_card [landlord]").expect(out);
    let um_t = out.find("install user_management [tenant]").expect(out);
    let dc_t = out.find("install digital_card [tenant]").expect(out);
    assert!(um < dc && dc < um_t && um_t < dc_t, "plan order:\n{out}");
    assert_has(
        out,
        "install: 4 succeeded, 0 failed, 0 skipped; 9 migrations",
    );

    // Tables: acme and the landlord, nothing at all in globex.
    assert_eq!(
        tables(&s.tenant_db("acme")),
        names(&[
            "card_shares",
            "card_templates",
            "digital_cards",
            "estate_ledger",
            "user_profiles"
        ])
    );
    assert_eq!(
        tables(&s.landlord()),
        names(&[
            "digital_card_global_config",
            "estate_history",
            "estate_job_events",
            "estate_job_tenants",
            "estate_jobs",
            "estate_ledger",
            "estate_modules",
            "estate_tenant_modules",
            "estate_tenant_tags",
            "estate_tenants",
            "users",
        ])
    );
    assert_eq!(tables(&s.tenant_db("globex")), Vec::<String>::new());
    s.assert_public_schemas_empty();

    // Status: acme has both, the rest is not installed; globex has nothing.
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(status.as_array().unwrap().len(), 8, "{status:#}");
    assert_states(
        &status,
        &[
            ("acme", "user_management", st("installed", 3, 0)),
            ("acme", "digital_card", st("installed", 6, 0)),
            ("acme", "calendar", st("not_installed", 0, 0)),
            ("acme", "billing", st("not_installed", 0, 0)),
        ],
    );
    for m in ["user_management", "digital_card", "calendar", "billing"] {
        assert_eq!(
            state(&status, "globex", m),
            st("not_installed", 0, 0),
            "{m}"
        );
    }
    let acme_only = s.estate_json(&["status", "--tenant", "acme", "--json"]);
    assert_eq!(acme_only.as_array().unwrap().len(), 4);
    assert!(
        acme_only
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["tenant"] == "acme")
    );

    // The registry's own record.
    let installed = query(
        &s.landlord(),
        "SELECT tenant, module, state, module_version FROM estate_tenant_modules ORDER BY tenant, module",
    );
    assert_eq!(
        installed,
        vec![
            names(&["acme", "digital_card", "installed", "1.2.0"]),
            names(&["acme", "user_management", "installed", "1.0.0"]),
        ]
    );
    let list = s.estate_json(&["tenants", "list", "--json"]);
    assert_eq!(list[0]["slug"], "acme");
    assert_eq!(
        list[0]["modules"],
        json!(["digital_card", "user_management"])
    );
    assert_eq!(list[1]["modules"], json!([]));
}

on_every_setup!(install_writes_complete_ledger_rows);
fn install_writes_complete_ledger_rows(setup: Setup) {
    let s = digital_card_for_acme(setup);

    assert_eq!(
        ledger(&s.tenant_db("acme")),
        vec![
            l("user_management", "tenant", 1),
            l("user_management", "tenant", 2),
            l("digital_card", "tenant", 1),
            l("digital_card", "tenant", 2),
            l("digital_card", "tenant", 3),
            l("digital_card", "tenant", 4),
            l("digital_card", "tenant", 5),
        ]
    );
    assert_eq!(
        ledger(&s.landlord()),
        vec![
            l("module_registry", "landlord", 1),
            l("module_registry", "landlord", 2),
            l("module_registry", "landlord", 3),
            l("module_registry", "landlord", 4),
            l("module_registry", "landlord", 5),
            l("module_registry", "landlord", 6),
            l("module_registry", "landlord", 7),
            l("module_registry", "landlord", 8),
            l("module_registry", "landlord", 9),
            l("user_management", "landlord", 1),
            l("digital_card", "landlord", 1),
        ]
    );

    let rows = query(
        &s.tenant_db("acme"),
        &format!(
            "SELECT context, version, description, checksum, batch, applied_at, execution_ms, applied_by \
         FROM estate_ledger ORDER BY {}",
            ledger_order(&s.tenant_db("acme"))
        ),
    );
    let descriptions: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "create user profiles",
            "add avatar url to user profiles",
            "create card templates",
            "create digital cards",
            "add accent color to digital cards",
            "create card shares",
            "add sharing to digital cards",
        ]
    );
    for r in &rows {
        let checksum = &r[3];
        assert_eq!(checksum.len(), 64, "checksum {checksum}");
        assert!(
            checksum
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "checksum {checksum}"
        );
        let batch: i64 = r[4].parse().expect("batch is an integer");
        assert!(batch >= 1, "batch {batch}");
        assert!(r[5].starts_with("20"), "applied_at {}", r[5]);
        let ms: i64 = r[6].parse().expect("execution_ms is an integer");
        assert!(ms >= 0);
        assert!(r[7].contains("tester"), "applied_by {}", r[7]);
    }
    // One batch per step: a module's migrations share it, the later step has a later batch.
    assert_eq!(rows[0][4], rows[1][4]);
    assert_eq!(rows[2][4], rows[3][4]);
    assert_eq!(rows[3][4], rows[4][4]);
    assert!(rows[2][4].parse::<i64>().unwrap() > rows[0][4].parse::<i64>().unwrap());
    // Checksums differ from file to file.
    let mut sums: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    sums.sort();
    sums.dedup();
    assert_eq!(sums.len(), rows.len());

    let landlord = query(
        &s.landlord(),
        "SELECT checksum, applied_by FROM estate_ledger WHERE context = 'digital_card'",
    );
    assert_eq!(landlord.len(), 1);
    assert_eq!(landlord[0][0].len(), 64);
    assert!(landlord[0][1].contains("tester"));
}

on_every_setup!(acceptance_install_refused_rollback_rollback_and_history);
fn acceptance_install_refused_rollback_rollback_and_history(setup: Setup) {
    let s = digital_card_for_acme(setup);

    // user_management is required by an installed module: refused, naming it, nothing changed.
    let before = s.snapshot();
    let refused = s
        .estate(&["rollback", "user_management", "--tenant", "acme"])
        .expect(2);
    assert_has(&refused.stderr, "digital_card");
    assert_has(&refused.stderr, "--cascade");
    assert!(
        s.snapshot() == before,
        "a refused rollback changed a database"
    );

    // digital_card rolls back: tenant tables, ledger rows and (last tenant) landlord table go.
    s.estate_summary(
        &["rollback", "digital_card", "--tenant", "acme"],
        0,
        "rollback: 2 succeeded, 0 failed, 0 skipped; 6 migrations",
    );
    assert_eq!(
        tables(&s.tenant_db("acme")),
        names(&["estate_ledger", "user_profiles"])
    );
    assert_eq!(
        ledger(&s.tenant_db("acme")),
        vec![
            l("user_management", "tenant", 1),
            l("user_management", "tenant", 2),
        ]
    );
    let landlord = tables(&s.landlord());
    assert!(!landlord.contains(&"digital_card_global_config".to_string()));
    assert!(landlord.contains(&"users".to_string()));
    assert_eq!(
        ledger(&s.landlord()),
        vec![
            l("module_registry", "landlord", 1),
            l("module_registry", "landlord", 2),
            l("module_registry", "landlord", 3),
            l("module_registry", "landlord", 4),
            l("module_registry", "landlord", 5),
            l("module_registry", "landlord", 6),
            l("module_registry", "landlord", 7),
            l("module_registry", "landlord", 8),
            l("module_registry", "landlord", 9),
            l("user_management", "landlord", 1),
        ]
    );
    assert_eq!(tables(&s.tenant_db("globex")), Vec::<String>::new());

    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "digital_card", st("not_installed", 0, 0)),
            ("acme", "user_management", st("installed", 3, 0)),
        ],
    );
    let list = s.estate_json(&["tenants", "list", "--json"]);
    assert_eq!(list[0]["modules"], json!(["user_management"]));

    // History: every step of both jobs, in order.
    let hist = s.estate_json(&["history", "--json"]);
    assert_eq!(
        history_rows(&hist),
        vec![
            h("-", "user_management", "landlord", "install", "1"),
            h("-", "digital_card", "landlord", "install", "1"),
            h("acme", "user_management", "tenant", "install", "1,2"),
            h("acme", "digital_card", "tenant", "install", "1,2,3,4,5"),
            h("acme", "digital_card", "tenant", "rollback", "5,4,3,2,1"),
            h("-", "digital_card", "landlord", "rollback", "1"),
        ]
    );
    for r in hist.as_array().unwrap() {
        assert_eq!(r["operator"], "tester", "{r}");
        assert_eq!(r["error"], Value::Null, "{r}");
        assert!(r["duration_ms"].as_i64().unwrap() >= 0, "{r}");
        assert!(
            r["finished_at"].as_str().unwrap() >= r["started_at"].as_str().unwrap(),
            "{r}"
        );
        assert!(r["job_id"].as_str().is_some_and(|j| !j.is_empty()), "{r}");
    }
    // The landlord rows carry tenant null (not a string).
    assert_eq!(hist[0]["tenant"], Value::Null);
    // The two jobs have two ids.
    assert_eq!(hist[0]["job_id"], hist[3]["job_id"]);
    assert_ne!(hist[3]["job_id"], hist[4]["job_id"]);

    // Filters.
    let filtered = s.estate_json(&["history", "digital_card", "--tenant", "acme", "--json"]);
    assert_eq!(
        history_rows(&filtered),
        vec![
            h("acme", "digital_card", "tenant", "install", "1,2,3,4,5"),
            h("acme", "digital_card", "tenant", "rollback", "5,4,3,2,1"),
        ]
    );
    let human = s
        .estate(&["history", "digital_card", "--tenant", "acme"])
        .expect(0);
    assert_has(&human.stdout, "rollback");
    assert!(
        !human.stdout.contains("user_management"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("landlord"), "{}", human.stdout);
    let globex = s.estate_json(&["history", "--tenant", "globex", "--json"]);
    assert_eq!(globex, json!([]));
    let um = s.estate_json(&["history", "user_management", "--json"]);
    assert_eq!(
        history_rows(&um),
        vec![
            h("-", "user_management", "landlord", "install", "1"),
            h("acme", "user_management", "tenant", "install", "1,2"),
        ]
    );
}

on_every_setup!(cascade_rolls_back_dependants_first);
fn cascade_rolls_back_dependants_first(setup: Setup) {
    let s = digital_card_for_acme(setup);
    s.estate(&["rollback", "digital_card", "--tenant", "acme"])
        .expect(0);
    // Re-install: user_management is already there, so only digital_card's steps.
    let again = s.estate_json(&["install", "digital_card", "--tenant", "acme", "--json"]);
    assert_eq!(
        pluck(&again["plan"]["landlord"], "module"),
        ["digital_card"]
    );
    assert_eq!(
        pluck(&again["plan"]["tenant_steps"]["acme"], "module"),
        ["digital_card"]
    );

    let before = s
        .estate_json(&["history", "--json"])
        .as_array()
        .unwrap()
        .len();
    let run = cascade_rollback_user_management(&s, &["--json"]).json();
    let plan = &run["plan"];
    assert_eq!(
        pluck(&plan["tenant_steps"]["acme"], "module"),
        ["digital_card", "user_management"]
    );
    assert_eq!(
        pluck(&plan["landlord"], "module"),
        ["digital_card", "user_management"]
    );
    assert!(
        plan["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("digital_card")),
        "{plan:#}"
    );
    assert_eq!(pluck(&run["report"]["steps"], "outcome"), ["succeeded"; 4]);

    let hist = s.estate_json(&["history", "--json"]);
    let new: Vec<_> = history_rows(&hist).into_iter().skip(before).collect();
    assert_eq!(
        new,
        vec![
            h("acme", "digital_card", "tenant", "rollback", "5,4,3,2,1"),
            h("acme", "user_management", "tenant", "rollback", "2,1"),
            h("-", "digital_card", "landlord", "rollback", "1"),
            h("-", "user_management", "landlord", "rollback", "1"),
        ]
    );

    assert_eq!(tables(&s.tenant_db("acme")), names(&["estate_ledger"]));
    assert_eq!(ledger(&s.tenant_db("acme")), vec![]);
    let landlord = tables(&s.landlord());
    assert!(!landlord.contains(&"users".to_string()), "{landlord:?}");
    assert!(!landlord.contains(&"digital_card_global_config".to_string()));
    assert_eq!(
        ledger(&s.landlord()),
        vec![
            l("module_registry", "landlord", 1),
            l("module_registry", "landlord", 2),
            l("module_registry", "landlord", 3),
            l("module_registry", "landlord", 4),
            l("module_registry", "landlord", 5),
            l("module_registry", "landlord", 6),
            l("module_registry", "landlord", 7),
            l("module_registry", "landlord", 8),
            l("module_registry", "landlord", 9),
        ]
    );
    let status = s.estate_json(&["status", "--json"]);
    for r in status.as_array().unwrap() {
        assert_eq!(r["state"], "not_installed", "{r}");
    }
    assert_matrix_matches_status(&s);
}

on_every_setup!(the_plan_does_not_claim_to_add_a_required_module_that_is_already_installed);
fn the_plan_does_not_claim_to_add_a_required_module_that_is_already_installed(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "user_management", "--tenant", "acme"])
        .expect(0);
    let before = s.snapshot();
    let plan = install_digital_card_dry_run(&s);
    assert_eq!(
        pluck(&plan["plan"]["tenant_steps"]["acme"], "module"),
        ["digital_card"]
    );
    assert_eq!(
        plan["plan"]["notes"],
        json!([]),
        "user_management is installed already: nothing adds it to this plan"
    );
    assert!(s.snapshot() == before);
}

on_every_setup!(cascade_in_the_human_output_lists_the_dependant_first);
fn cascade_in_the_human_output_lists_the_dependant_first(setup: Setup) {
    let s = digital_card_for_acme(setup);
    let run = cascade_rollback_user_management(&s, &[]);
    let out = &run.stdout;
    let dc = out.find("rollback digital_card [tenant]").expect(out);
    let um = out.find("rollback user_management [tenant]").expect(out);
    let dc_l = out.find("rollback digital_card [landlord]").expect(out);
    let um_l = out.find("rollback user_management [landlord]").expect(out);
    assert!(dc < um && um < dc_l && dc_l < um_l, "{out}");
}

on_every_setup!(landlord_scope_stays_while_any_tenant_keeps_the_module);
fn landlord_scope_stays_while_any_tenant_keeps_the_module(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    for t in ["acme", "globex"] {
        assert_eq!(
            tables(&s.tenant_db(t)),
            names(&["calendars", "estate_ledger", "events", "user_profiles"]),
            "{t}"
        );
    }
    assert!(has_table(&s.landlord(), "calendar_global_config"));
    s.assert_public_schemas_empty();

    let run = s.estate_json(&["rollback", "calendar", "--tenant", "acme", "--json"]);
    assert_eq!(run["plan"]["landlord"], json!([]), "{:#}", run["plan"]);
    assert!(has_table(&s.landlord(), "calendar_global_config"));
    assert!(
        ledger(&s.landlord()).contains(&l("calendar", "landlord", 1)),
        "the landlord's calendar ledger row went while globex keeps calendar"
    );
    assert_eq!(
        tables(&s.tenant_db("acme")),
        names(&["estate_ledger", "user_profiles"])
    );
    assert_eq!(
        tables(&s.tenant_db("globex")),
        names(&["calendars", "estate_ledger", "events", "user_profiles"])
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_states(
        &status,
        &[
            ("acme", "calendar", st("not_installed", 0, 0)),
            ("globex", "calendar", st("installed", 4, 0)),
        ],
    );

    // The last tenant goes: the landlord's part goes with it.
    s.estate(&["rollback", "calendar", "--tenant", "globex"])
        .expect(0);
    assert!(!has_table(&s.landlord(), "calendar_global_config"));
    assert!(!ledger(&s.landlord()).iter().any(|r| r.0 == "calendar"));
    assert_eq!(
        tables(&s.tenant_db("globex")),
        names(&["estate_ledger", "user_profiles"])
    );

    // Rolling back what is not installed is a no-op.
    let before = s.snapshot();
    let noop = s
        .estate(&["rollback", "calendar", "--tenant", "globex"])
        .expect(0);
    assert_has(&noop.stdout, "nothing to do");
    assert!(s.snapshot() == before);
}

on_every_setup!(install_billing_needs_no_landlord_table_of_its_own);
fn install_billing_needs_no_landlord_table_of_its_own(setup: Setup) {
    // (the former smoke test)
    let s = two_tenants(setup);
    s.estate(&["install", "billing", "--tenant", "acme"])
        .expect(0);
    assert_eq!(
        tables(&s.tenant_db("acme")),
        names(&["estate_ledger", "invoices", "user_profiles"])
    );
    let landlord = tables(&s.landlord());
    assert!(landlord.contains(&"users".to_string()));
    assert!(!ledger(&s.landlord()).iter().any(|r| r.0 == "billing"));
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "billing"), st("installed", 2, 0));
}

on_every_setup!(dry_run_prints_the_sql_and_changes_nothing);
fn dry_run_prints_the_sql_and_changes_nothing(setup: Setup) {
    let s = two_tenants(setup);
    let before = s.snapshot();
    let run = s
        .estate(&["install", "digital_card", "--tenant", "acme", "--dry-run"])
        .expect(0);
    let out = &run.stdout;
    for sql in [
        "CREATE TABLE users",
        "CREATE TABLE digital_card_global_config",
        "CREATE TABLE user_profiles",
        "ALTER TABLE user_profiles ADD COLUMN avatar_url",
        "CREATE TABLE card_templates",
        "CREATE TABLE digital_cards",
        "ALTER TABLE digital_cards ADD COLUMN accent_color",
    ] {
        assert!(out.contains(sql), "dry run does not show {sql:?}:\n{out}");
    }
    assert!(
        out.contains("0001_create_card_templates.up.sql"),
        "the dry run names the file:\n{out}"
    );
    assert_has(out, "dry run: nothing was changed");
    assert!(s.snapshot() == before, "--dry-run changed a database");
    let status = s.estate_json(&["status", "--json"]);
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "not_installed")
    );
    assert_eq!(s.estate_json(&["history", "--json"]), json!([]));

    // The same plan as JSON.
    let plan = install_digital_card_dry_run(&s);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["plan"]["action"], "install");
    assert_eq!(plan["plan"]["modules"], json!(["digital_card"]));
    assert_eq!(plan["plan"]["tenants"], json!(["acme"]));
    assert_eq!(
        plan["plan"]["notes"],
        json!(["user_management added: required by digital_card"])
    );
    assert_eq!(
        pluck(&plan["plan"]["landlord"], "module"),
        ["user_management", "digital_card"]
    );
    let acme = &plan["plan"]["tenant_steps"]["acme"];
    assert_eq!(pluck(acme, "module"), ["user_management", "digital_card"]);
    assert_eq!(acme[0]["reason"], "required");
    assert_eq!(versions(&acme[1]["migrations"]), [1, 2, 3, 4, 5]);
    assert!(
        acme[1]["migrations"][0]["up_sql"]
            .as_str()
            .unwrap()
            .contains("CREATE TABLE card_templates")
    );
    assert!(plan["plan"]["tenant_steps"].get("globex").is_none());
    assert!(plan["report"].is_null(), "{:#}", plan["report"]);
    assert!(
        s.snapshot() == before,
        "--json --dry-run changed a database"
    );
}

on_every_setup!(rollback_dry_run_prints_the_down_sql_and_changes_nothing);
fn rollback_dry_run_prints_the_down_sql_and_changes_nothing(setup: Setup) {
    let s = digital_card_for_acme(setup);
    let before = s.snapshot();
    let run = s
        .estate(&["rollback", "digital_card", "--tenant", "acme", "--dry-run"])
        .expect(0);
    let out = &run.stdout;
    assert_has(out, "DROP TABLE card_templates");
    assert_has(out, "DROP TABLE digital_cards");
    assert_has(out, "DROP TABLE digital_card_global_config");
    assert!(!out.contains("CREATE TABLE"), "{out}");
    assert!(
        s.snapshot() == before,
        "rollback --dry-run changed a database"
    );
    // The SQL shown is the down file's: the dry run must name that file, not the up file.
    assert!(
        out.contains("0001_create_card_templates.down.sql"),
        "rollback --dry-run shows the down SQL under the .up.sql file's name:\n{out}"
    );
    assert!(
        !out.contains(".up.sql"),
        "rollback --dry-run names an .up.sql file:\n{out}"
    );
}

on_every_setup!(the_operator_includes_the_ssh_client);
fn the_operator_includes_the_ssh_client(setup: Setup) {
    let s = two_tenants(setup);
    s.estate_with_env(
        &["install", "billing", "--tenant", "acme"],
        &[("SSH_CONNECTION", "10.1.2.3 5555 10.0.0.1 22")],
    )
    .expect(0);
    let hist = s.estate_json(&["history", "--json"]);
    for r in hist.as_array().unwrap() {
        assert_eq!(r["operator"], "tester", "{r}");
        assert_eq!(r["ssh_client"], "10.1.2.3", "{r}");
    }
    for r in query(&s.tenant_db("acme"), "SELECT applied_by FROM estate_ledger") {
        assert!(
            r[0].contains("tester") && r[0].contains("10.1.2.3"),
            "{r:?}"
        );
    }
}

on_every_setup!(unknown_module_or_tenant_is_refused_and_changes_nothing);
fn unknown_module_or_tenant_is_refused_and_changes_nothing(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let before = s.snapshot();
    for args in [
        ["install", "nosuch", "--tenant", "acme"],
        ["install", "calendar", "--tenant", "nosuch"],
        ["rollback", "nosuch", "--tenant", "acme"],
        ["rollback", "calendar", "--tenant", "nosuch"],
    ] {
        let r = s.estate(&args).expect(2);
        assert_has(&r.stderr, "nosuch");
    }
    assert!(s.snapshot() == before);
}

#[test]
fn progress_lines_off_a_terminal_name_their_tenant() {
    let s = with_tenants(Setup::Sqlite, &["acme", "globex"]);
    let run = s.estate(&["install", "calendar", "--all"]).expect(0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    // Tenants run side by side: each line starts with whom it is about, padded to the widest.
    for line in [
        "landlord  → install user_management on landlord",
        "acme      → install calendar on tenant acme",
        "globex    → install calendar on tenant globex",
        "acme      ✓ applied 0001 create calendars",
        "globex    ✓ applied 0003 add location to events",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(line)),
            "no line {line:?} in:\n{}",
            run.stderr
        );
    }
    let applied = |who: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with(&format!("{who:<8}  ✓ applied")))
            .count()
    };
    // user_management's 2 and calendar's 3 on each tenant, their 1 + 1 on the landlord.
    assert_eq!(
        (applied("landlord"), applied("acme"), applied("globex")),
        (2, 5, 5),
        "{}",
        run.stderr
    );
    assert_eq!(
        lines.iter().filter(|l| l.contains("✓ applied")).count(),
        12,
        "every migration line names its tenant:\n{}",
        run.stderr
    );
}
