//! `estate check`: the config and every context validated, each problem listed with its
//! location and fix; the Rust migrators this binary registers checked against the contexts.

use serde_json::json;

use super::{EXIT_OK, EXIT_REFUSED, authoring, colour_err, print_json, render};
use estate_engine::{Catalog, Config, Problem, RegisteredMigrators, Result, describe_roots};

pub fn check(config: &Config, registered: &RegisteredMigrators, json: bool) -> Result<u8> {
    config.require_contexts_folder()?;
    let mut catalog = Catalog::load(&config.contexts)?;
    let unknown: Vec<&str> = registered
        .contexts()
        .filter(|c| catalog.get(c).is_none())
        .collect();
    for unknown in unknown {
        catalog.problems.push(Problem::new(
            config.contexts_home(),
            format!("has no context {unknown:?}, for which this binary registers a Rust migrator"),
            format!(
                "add the folder {unknown}/ with its context.toml (name, title, version, requires)"
            ),
        ));
    }
    // Contexts whose Rust migrator another binary holds: listed, not refused, since this
    // binary still serves every other module.
    let elsewhere: Vec<(&str, &str)> = catalog
        .contexts
        .values()
        .filter(|c| !registered.contains(c.name()))
        .filter_map(|c| Some((c.name(), c.manifest.migrator_binary.as_deref()?)))
        .collect();
    let conflicts = &catalog.tables.conflicts;
    if json {
        let elsewhere: Vec<_> = elsewhere
            .iter()
            .map(|(context, binary)| json!({ "context": context, "binary": binary }))
            .collect();
        print_json(&json!({
            "ok": catalog.problems.is_empty(),
            "config": config.file,
            "contexts": catalog.contexts.len(),
            "migrations": catalog.migration_count(),
            "problems": catalog.problems,
            "tables_claimed_twice": conflicts,
            "migrators_elsewhere": elsewhere,
        }));
    } else if catalog.problems.is_empty() {
        authoring::warn_conflicts(conflicts);
        for (context, binary) in &elsewhere {
            errln!(
                "note: {context}'s migrator is Rust code in the binary `{binary}`; this binary cannot install, roll back or migrate {context} (run `{binary}` for it)"
            );
        }
        outln!(
            "ok: {} contexts, {} migrations ({}; contexts in {})",
            catalog.contexts.len(),
            catalog.migration_count(),
            config.file.display(),
            describe_roots(&config.contexts)
        );
    } else {
        err!("{}", colour_err(render::problems(&catalog.problems)));
        authoring::warn_conflicts(conflicts);
        errln!(
            "{} problem(s) found; nothing was changed",
            catalog.problems.len()
        );
    }
    Ok(if catalog.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_REFUSED
    })
}
