//! Reading what estate printed: fields of `--json` documents, `status --json` states, and lines
//! of human output.

use serde_json::Value;

use super::scratch::Scratch;

/// Owned strings from string literals.
pub fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The string field `key` of every element of a JSON array.
pub fn pluck<'a>(array: &'a Value, key: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap())
        .collect()
}

/// The `version` of every migration in a JSON array of planned migrations.
pub fn versions(migrations: &Value) -> Vec<i64> {
    migrations
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect()
}

/// The `status --json` row of one tenant and module.
pub fn status_row(status: &Value, tenant: &str, module: &str) -> Value {
    status
        .as_array()
        .expect("status --json is an array")
        .iter()
        .find(|r| r["tenant"] == tenant && r["module"] == module)
        .unwrap_or_else(|| panic!("no status row for {tenant}/{module} in {status:#}"))
        .clone()
}

/// (state, applied, pending) of one tenant and module in `status --json`.
pub fn state(status: &Value, tenant: &str, module: &str) -> (String, i64, i64) {
    let r = status_row(status, tenant, module);
    (
        r["state"].as_str().unwrap().to_string(),
        r["applied"].as_i64().unwrap(),
        r["pending"].as_i64().unwrap(),
    )
}

/// An expected (state, applied, pending), to compare with `state`.
pub fn st(state: &str, applied: i64, pending: i64) -> (String, i64, i64) {
    (state.to_string(), applied, pending)
}

/// Asserts (state, applied, pending) of each (tenant, module) in a `status --json` document.
pub fn assert_states(status: &Value, want: &[(&str, &str, (String, i64, i64))]) {
    for (tenant, module, want) in want {
        assert_eq!(state(status, tenant, module), *want, "{tenant}/{module}");
    }
}

/// Asserts that `module` is in state `want` on each of `tenants`, per `status --json`, and
/// that the registry's answer is the ledgers' (`status --live --json`).
pub fn assert_state_on(s: &Scratch, tenants: &[&str], module: &str, want: (String, i64, i64)) {
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(
        status,
        s.estate_json(&["status", "--live", "--json"]),
        "the registry's status is not the ledgers'"
    );
    for t in tenants {
        assert_eq!(state(&status, t, module), want, "{t}");
    }
}

/// Asserts that `haystack` contains `needle`, showing the haystack if not.
pub fn assert_has(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// The first line of `text` that starts with `prefix`.
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}
