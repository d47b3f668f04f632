//! The guard of estate's architecture (docs/ARCHITECTURE.md, and the layers the engine's
//! crates/estate-engine/src/lib.rs draws): the rules that keep the engine a library the faces
//! sit on, checked on the source text, so that a change that breaks one fails `cargo test` with
//! the file, the line, the import, the rule and the way out, rather than surviving review.
//!
//! - the engine depends on no UI crate;
//! - inside the engine each module imports only the layers below it, and the catalog knows no
//!   database;
//! - the faces reach the engine through the names at its root;
//! - the CLI never imports the console; the console's views import neither `app.rs` nor each
//!   other, and its modules import one another without a circle;
//! - no source file grows past 600 lines.
//!
//! The parsing is deliberately small and reads rustfmt'd code: comments and literals blanked,
//! `use` trees expanded, paths read. It is not a Rust parser; it only has to see every path.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FACES: &str = "src";
const ENGINE: &str = "crates/estate-engine/src";

/// The engine's layers, lowest first: a module imports only modules of a lower layer. The
/// ground floor's modules may import one another, as long as they do so without a circle.
const LAYERS: &[&[&str]] = &[
    &["error", "problem", "clock", "files", "operator", "sync"],
    &["sql"],
    &["database"],
    &["config"],
    &["catalog"],
    &["tenancy"],
    &["migrator"],
    &["registry"],
    &["plan"],
    &["jobs"],
    &["project"],
];

/// What a terminal UI is made of; the engine must stay usable by a binary that has none.
const UI_CRATES: &[&str] = &["ratatui", "crossterm", "clap", "indicatif"];

/// The engine's modules the faces may reach into by path: utilities whose names read well only
/// with their module's (`sync::lock`, `files::create_dir`), so the root does not re-export them.
const ENGINE_OPEN_MODULES: &[&str] = &["sync", "files"];

const MAX_LINES: usize = 600;

#[test]
fn the_engine_depends_on_no_ui_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "tree",
        "-p",
        "estate-engine",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
        "--locked",
    ];
    let output = Command::new(&cargo)
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap_or_else(|e| panic!("could not run `{cargo} {}`: {e}", args.join(" ")));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // An empty or failed tree would list no UI crate either: it must be the engine's tree.
    assert!(
        output.status.success() && stdout.lines().any(|l| l.starts_with("estate-engine v")),
        "`{cargo} {}` did not list the engine's dependencies ({}):\n{}{}",
        args.join(" "),
        output.status,
        stdout,
        String::from_utf8_lossy(&output.stderr),
    );
    let ui: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| UI_CRATES.contains(name))
        .collect();
    assert!(
        ui.is_empty(),
        "crates/estate-engine/Cargo.toml: the engine depends on {ui:?}, a UI crate. The engine \
         knows no terminal (the faces in src/ are the only UI): drop the dependency, or move \
         the code that needs it to src/cli or src/tui. \
         `cargo tree -p estate-engine -e normal -i <crate>` shows how it came in."
    );
}

#[test]
fn the_engine_imports_only_downward() {
    let sources = sources(ENGINE);
    let modules = top_modules(&sources);
    let root_names = root_names(&sources);
    let layer = |module: &str| LAYERS.iter().position(|layer| layer.contains(&module));
    let mut broken = Vec::new();
    for module in &modules {
        if layer(module).is_none() {
            broken.push(format!(
                "{ENGINE}/{module}: the module `{module}` is in no layer: add it to LAYERS in \
                 tests/layers.rs (and to the drawing in {ENGINE}/lib.rs), above what it imports"
            ));
        }
    }
    let mut ground = Graph::new();
    let mut seen = 0;
    for source in sources.iter().filter(|s| !s.module.is_empty()) {
        let from = source.module[0].as_str();
        for (line, path) in imports(&source.text) {
            let Some(target) = source.resolve(&path) else {
                continue;
            };
            let Some(first) = target.first() else {
                continue;
            };
            let at = format!("{}:{line}: `{path}`", source.path);
            // `crate::Error`, `crate::on_tx!`: a name at the root is the module's that made it.
            let Some(to) = modules.get(first).or_else(|| root_names.get(first)) else {
                broken.push(format!(
                    "{at}: cannot tell which module `{first}` at the engine's root comes from; \
                     import it from its module (`crate::<module>::{first}`)"
                ));
                continue;
            };
            seen += 1;
            if to == from {
                continue;
            }
            let (Some(low), Some(high)) = (layer(to), layer(from)) else {
                continue;
            };
            if from == "catalog" && (to == "database" || to == "config") {
                broken.push(format!(
                    "{at}: the catalog imports `{to}`, but the catalog knows no database (it is \
                     contexts on disk, read by the registry and the migrator): move what it \
                     needs into catalog or sql, or let the caller hand it over"
                ));
            } else if low == 0 && high == 0 {
                ground.edge(from, to, &at);
            } else if low >= high {
                broken.push(format!(
                    "{at}: `{from}` imports `{to}`, a layer that is not below it. The engine's \
                     modules import only downward ({}, lowest first; {ENGINE}/lib.rs draws \
                     them): move what `{from}` needs down into `{from}` or a lower layer, or \
                     have `{to}`'s caller pass it in",
                    LAYERS
                        .iter()
                        .map(|l| l.join("/"))
                        .collect::<Vec<_>>()
                        .join(" < "),
                ));
            }
        }
    }
    // A parser that read nothing would find nothing wrong.
    assert!(
        seen > 100,
        "read only {seen} `crate::` paths in {ENGINE}: the parser in tests/layers.rs is broken"
    );
    if let Some(circle) = ground.circle() {
        broken.push(format!(
            "the ground floor's modules import one another in a circle, {}; the ground floor \
             is what everything stands on: break the circle by moving the shared piece into \
             one of them\n{}",
            circle.join(" -> "),
            ground.evidence(&circle),
        ));
    }
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn the_faces_use_the_engine_through_its_front_door() {
    let engine_modules = top_modules(&sources(ENGINE));
    let mut broken = Vec::new();
    let mut seen = 0;
    for source in sources(FACES) {
        for (line, path) in imports(&source.text) {
            let Some(inside) = engine_path(&source, &path) else {
                continue;
            };
            seen += 1;
            let allowed = match inside.as_slice() {
                [] => true,
                [first, ..] if ENGINE_OPEN_MODULES.contains(&first.as_str()) => true,
                [name] => !engine_modules.contains(name),
                _ => false,
            };
            if !allowed {
                let name = inside.last().map_or("Name", String::as_str);
                broken.push(format!(
                    "{}:{line}: `{path}` reaches into the engine's modules. The faces use the \
                     engine through its front door: a name re-exported at its root ({ENGINE}/\
                     lib.rs), or estate_engine::{}. Import `estate_engine::{name}` (re-export it \
                     at the root first if the faces need it), or ask `Project` for it",
                    source.path,
                    ENGINE_OPEN_MODULES.join(" / estate_engine::"),
                ));
            }
        }
    }
    assert!(
        seen > 50,
        "read only {seen} engine paths in src/: the parser in tests/layers.rs is broken"
    );
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn the_cli_never_imports_the_console() {
    let mut broken = Vec::new();
    for source in sources(FACES)
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "cli"))
    {
        for (line, path) in imports(&source.text) {
            let console = source
                .resolve(&path)
                .is_some_and(|t| t.first().is_some_and(|m| m == "tui"))
                || path == "tui"
                || path.starts_with("tui::")
                || path.starts_with("estate::tui");
            if console {
                broken.push(format!(
                    "{}:{line}: `{path}`: the CLI imports the console. Neither face imports the \
                     other (App picks one): move what both need to the engine, or to a module \
                     of src/ beside cli and tui (as theme.rs is)",
                    source.path
                ));
            }
        }
    }
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn the_console_views_import_no_app() {
    let sources = sources(FACES);
    let files: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let mut broken = Vec::new();
    for source in &sources {
        let (view, who) = match source.module.as_slice() {
            // views/mod.rs is the tab list, which names every view: only app.rs is barred to it.
            [tui, views, view @ ..] if tui == "tui" && views == "views" => (view.first(), "a view"),
            [tui, popups, ..] if tui == "tui" && popups == "popups" => (None, "a popup"),
            _ => continue,
        };
        for (line, path) in imports(&source.text) {
            let Some(file) = source.resolve(&path).and_then(|t| file_of(&files, &t)) else {
                continue;
            };
            let at = format!("{}:{line}: `{path}`", source.path);
            match file
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                // tui/mod.rs is the event loop and re-exports App: importing it is importing app.
                ["tui", "app"] | ["tui"] => broken.push(format!(
                    "{at}: {who} imports the routing (tui/app.rs, or tui/mod.rs which runs it). \
                     Views and popups never import app.rs: a view asks for what it needs with an \
                     `Outcome`, a popup with a `Reply`, and app.rs does it"
                )),
                ["tui", "views", other, ..] if view.is_some_and(|v| v != other) => {
                    broken.push(format!(
                        "{at}: the view `{}` imports the view `{other}`. Views never import each \
                         other: put what they share in `Shared` (tui/shared.rs), or have the \
                         routing tell the other view with an `Event`",
                        view.map_or("", String::as_str),
                    ))
                }
                _ => {}
            }
        }
    }
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn no_circles_among_console_modules() {
    let sources: Vec<Source> = sources(FACES)
        .into_iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "tui"))
        .collect();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // Two granularities. Between files, a parent's `mod child; pub use child::Item;` is the
    // module tree, not an import to order (its children reach up with `super::` for what the
    // parent shares), so only `crate::`, `super::` and `self::` paths count. Between the
    // top-level modules (app, popups, keys, views, ...) every path counts, the parent's own
    // children too: that is where tui/mod.rs, the event loop, sits above them all.
    let mut files = Graph::new();
    let mut top = Graph::new();
    for source in &sources {
        let from = source.module.join("::");
        for (line, path) in imports(&source.text) {
            let at = format!("{}:{line}: `{path}`", source.path);
            let relative = source.resolve(&path);
            let Some(target) = relative.clone().or_else(|| source.child(&path)) else {
                continue;
            };
            let Some(file) = file_of(&modules, &target) else {
                continue;
            };
            if file[0] != "tui" {
                continue;
            }
            if relative.is_some() && file != source.module {
                files.edge(&from, &file.join("::"), &at);
            }
            let (a, b) = (top_of(&source.module), top_of(&file));
            if a != b {
                top.edge(&a, &b, &at);
            }
        }
    }
    assert!(
        files.0.len() > 20 && top.0.len() > 10,
        "read too few imports in src/tui: the parser in tests/layers.rs is broken"
    );
    let mut broken = Vec::new();
    for (graph, what) in [(&files, "files"), (&top, "top-level modules")] {
        if let Some(circle) = graph.circle() {
            broken.push(format!(
                "the console's {what} import one another in a circle, {}. Inside tui/ imports \
                 point one way (docs/ARCHITECTURE.md, \"The console's shape\"): move what the \
                 lower one needs from the higher one down, into the lower one or below both \
                 (shared.rs, command.rs, ...)\n{}",
                circle.join(" -> "),
                graph.evidence(&circle),
            ));
        }
    }
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let long: Vec<String> = sources(FACES)
        .into_iter()
        .chain(sources(ENGINE))
        .map(|s| (s.text.lines().count(), s.path))
        .filter(|(lines, _)| *lines > MAX_LINES)
        .map(|(lines, path)| format!("{path}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "\n{}\nA source file holds at most {MAX_LINES} lines, so each says one thing: split it \
         along its seams (a module per concern, as catalog/ and tui/views/ are split)\n",
        long.join("\n")
    );
}

// The rules above are only as good as what the parser sees: a path it misses is an import no
// rule checks. This pins down the shapes the code base uses.
#[test]
fn the_parser_reads_every_path_and_no_comment_or_literal() {
    let text = r#"//! A doc comment naming crate::doc::Nothing.
use crate::{
    catalog::{self, Scope},
    error::Result as R,
};
pub(crate) use super::views::Tab; // crate::comment::Nothing
fn f() -> R<()> {
    let _ = "crate::string::Nothing /* */";
    let _ = r"crate::raw::Nothing";
    let _ = '"';
    crate::migrator::verify_database(x)?; /* crate::block::Nothing */
}
#[cfg(test)]
mod tests {
    use super::*;
}
"#;
    let paths: Vec<(usize, String)> = imports(text);
    let expected = [
        (2, "crate::catalog"),
        (2, "crate::catalog::Scope"),
        (2, "crate::error::Result"),
        (6, "super::views::Tab"),
        (11, "crate::migrator::verify_database"),
        (15, "self::*"),
    ];
    let expected: Vec<(usize, String)> =
        expected.iter().map(|(l, p)| (*l, p.to_string())).collect();
    assert_eq!(paths, expected);
}

/// One source file of a crate.
struct Source {
    /// From the workspace root, as a message names it.
    path: String,
    /// Its module inside its crate: `tui/views/mod.rs` is `["tui", "views"]`, lib.rs `[]`.
    module: Vec<String>,
    /// The child modules it declares (`mod app;`).
    children: BTreeSet<String>,
    text: String,
}

impl Source {
    /// Where a `crate::`, `super::` or `self::` path points, from the crate root.
    fn resolve(&self, path: &str) -> Option<Vec<String>> {
        let segments: Vec<&str> = path.split("::").collect();
        let (base, rest) = match segments[0] {
            "crate" => (&self.module[..0], &segments[1..]),
            "self" => (&self.module[..], &segments[1..]),
            "super" => {
                let ups = segments.iter().take_while(|s| **s == "super").count();
                (
                    &self.module[..self.module.len().checked_sub(ups)?],
                    &segments[ups..],
                )
            }
            _ => return None,
        };
        Some(
            base.iter()
                .cloned()
                .chain(rest.iter().map(|s| s.to_string()))
                .collect(),
        )
    }

    /// Where a path into one of the file's own child modules (`mod app;`, then `app::App`) points.
    fn child(&self, path: &str) -> Option<Vec<String>> {
        let first = path.split("::").next()?;
        self.children.contains(first).then(|| {
            self.module
                .iter()
                .cloned()
                .chain(path.split("::").map(String::from))
                .collect()
        })
    }
}

/// The `.rs` files under `dir` (relative to the workspace root), in a stable order.
fn sources(dir: &str) -> Vec<Source> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let base = Path::new(ROOT).join(dir);
    let mut files = Vec::new();
    walk(&base, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&base).expect("under its base");
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") || module == ["lib"] || module == ["main"]
            {
                module.pop();
            }
            let text =
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let children = code_only(&text)
                .lines()
                .filter_map(|line| {
                    without_visibility(line.trim())
                        .strip_prefix("mod ")?
                        .strip_suffix(';')
                        .map(String::from)
                })
                .collect();
            Source {
                path: format!("{dir}/{}", relative.display()),
                module,
                children,
                text,
            }
        })
        .collect()
}

/// A crate's top-level modules, each once.
fn top_modules(sources: &[Source]) -> BTreeSet<String> {
    sources
        .iter()
        .filter_map(|s| s.module.first().cloned())
        .collect()
}

/// The file a path lands in: the longest prefix of it that is a module of its own file
/// (`crate::tui::widgets::table::List` is in tui/widgets/table.rs).
fn file_of(files: &BTreeSet<Vec<String>>, target: &[String]) -> Option<Vec<String>> {
    (1..=target.len())
        .rev()
        .map(|n| target[..n].to_vec())
        .find(|prefix| files.contains(prefix))
}

/// `tui::views::matrix` is in `tui::views`; tui/mod.rs is `tui`.
fn top_of(module: &[String]) -> String {
    module[..module.len().min(2)].join("::")
}

/// The engine's names at its root, each with the module it comes from: lib.rs's re-exports
/// (`pub use error::{Error, Result}`) and the macros `#[macro_export]` puts there.
fn root_names(engine: &[Source]) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for source in engine {
        if source.module.is_empty() {
            for (_, path) in imports(&source.text) {
                let segments: Vec<&str> = path.split("::").collect();
                if let [module, .., name] = segments.as_slice() {
                    names.insert(name.to_string(), module.to_string());
                }
            }
        } else {
            for rest in code_only(&source.text).split("macro_rules!").skip(1) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name, source.module[0].clone());
            }
        }
    }
    names
}

/// What a face's path names inside the engine (`estate_engine::catalog::Scope` is
/// `["catalog", "Scope"]`): through the crate's name, or through src/lib.rs's
/// `pub use estate_engine as engine` (`crate::engine::..`, `estate::engine::..`), which would
/// otherwise be a side door.
fn engine_path(source: &Source, path: &str) -> Option<Vec<String>> {
    let raw: Vec<String> = path.split("::").map(String::from).collect();
    let resolved = source.resolve(path).unwrap_or_default();
    let inside = if raw[0] == "estate_engine" {
        &raw[1..]
    } else if resolved.first().is_some_and(|s| s == "engine") {
        &resolved[1..]
    } else if raw.len() > 1 && raw[0] == "estate" && raw[1] == "engine" {
        &raw[2..]
    } else {
        return None;
    };
    Some(inside.to_vec())
}

/// Every path a file names, with its line: each leaf of its `use` trees (`use crate::{a::B,
/// c::D};` gives `crate::a::B` and `crate::c::D`) and every `a::b` path in its code
/// (`crate::migrator::verify_database(..)`). Comments and literals are not code.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // The indentation of each `mod tests {` the line is in: there `super::` is the file's module.
    let mut inline = Vec::<String>::new();
    let mut statement: Option<(usize, String)> = None;
    for (n, line) in code_only(text).lines().enumerate() {
        let trimmed = line.trim();
        if let Some((_, so_far)) = &mut statement {
            so_far.push(' ');
            so_far.push_str(trimmed);
        } else if let Some(tree) = without_visibility(trimmed).strip_prefix("use ") {
            statement = Some((n + 1, tree.to_string()));
        } else {
            let indent = &line[..line.len() - line.trim_start().len()];
            if trimmed == "}" && inline.last().is_some_and(|i| i == indent) {
                inline.pop();
            }
            let declared = without_visibility(trimmed).strip_prefix("mod ");
            if declared.is_some_and(|m| m.ends_with('{')) {
                inline.push(indent.to_string());
            }
            found.extend(
                paths_in(line)
                    .into_iter()
                    .map(|p| (n + 1, of_file(&p, inline.len()))),
            );
            continue;
        }
        if let Some((start, tree)) = statement.take_if(|(_, s)| s.contains(';')) {
            let mut paths = Vec::new();
            expand("", tree.split(';').next().unwrap_or_default(), &mut paths);
            found.extend(
                paths
                    .into_iter()
                    .map(|p| (start, of_file(&p, inline.len()))),
            );
        }
    }
    found
}

/// A `use` tree's leaves, each a full path; `self` in a group is the group's own path.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let join = |a: &str, b: &str| match (a, b) {
        ("", b) => b.to_string(),
        (a, "") => a.to_string(),
        (a, b) => format!("{a}::{b}"),
    };
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        match tree.split(" as ").next().unwrap_or_default().trim() {
            "" => {}
            "self" => out.push(prefix.to_string()),
            name => out.push(join(prefix, name)),
        }
        return;
    };
    let head = join(prefix, tree[..open].trim().trim_end_matches("::"));
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(&head, &inner[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    expand(&head, &inner[start..], out);
}

/// The `a::b::c` paths in a line of code.
fn paths_in(line: &str) -> Vec<String> {
    let c: Vec<char> = line.chars().collect();
    let word = |i: usize| c.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let starts = |i: usize| c.get(i).is_some_and(|c| c.is_alphabetic() || *c == '_');
    let mut paths = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !starts(i) || (i > 0 && (word(i - 1) || c[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let mut path = String::new();
        loop {
            let start = i;
            while word(i) {
                i += 1;
            }
            path.extend(&c[start..i]);
            if c.get(i) == Some(&':') && c.get(i + 1) == Some(&':') && starts(i + 2) {
                path.push_str("::");
                i += 2;
            } else {
                break;
            }
        }
        if path.contains("::") {
            paths.push(path);
        }
    }
    paths
}

/// A path inside `depth` inline modules (`mod tests { use super::*; }`), seen from the file.
fn of_file(path: &str, depth: usize) -> String {
    let segments: Vec<&str> = path.split("::").collect();
    let supers = segments.iter().take_while(|s| **s == "super").count();
    if depth == 0 || supers == 0 {
        return path.to_string();
    }
    let up = supers.saturating_sub(depth);
    let mut seen = if up == 0 {
        vec!["self"]
    } else {
        vec!["super"; up]
    };
    seen.extend(&segments[supers..]);
    seen.join("::")
}

/// `pub use x` and `pub(crate) mod y` read as `use x` and `mod y`.
fn without_visibility(line: &str) -> &str {
    match line.strip_prefix("pub(") {
        Some(rest) => rest.split_once(')').map_or(line, |(_, r)| r.trim_start()),
        None => line.strip_prefix("pub ").unwrap_or(line),
    }
}

/// The text with comments and the insides of string and char literals blanked (newlines
/// kept, so lines keep their numbers): a `crate::x` in a doc comment or a message is no import.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, ch)| c.get(i + k) == Some(&ch))
    };
    let word = |i: usize| c.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        // r"..", r#".."#, br".." (but not the `r"` ending an identifier such as `for"`).
        let raw = c[i] == 'r'
            && (i == 0 || !word(i - 1) || (c[i - 1] == 'b' && (i < 2 || !word(i - 2))))
            && at(
                i + 1 + c[i + 1..].iter().take_while(|c| **c == '#').count(),
                "\"",
            );
        if at(i, "//") {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < c.len() {
                if at(i, "/*") || at(i, "*/") {
                    depth += if c[i] == '/' { 1 } else { -1 };
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if raw {
            let hashes = c[i + 1..].iter().take_while(|c| **c == '#').count();
            let end: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            i += hashes + 2;
            while i < c.len() && !at(i, &end) {
                out.push(blank(c[i]));
                i += 1;
            }
            out.push_str(&end);
            i += end.len();
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                let step = if c[i] == '\\' { 2 } else { 1 };
                c[i..(i + step).min(c.len())]
                    .iter()
                    .for_each(|ch| out.push(blank(*ch)));
                i += step;
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' && (at(i + 1, "\\") || c.get(i + 2) == Some(&'\'')) {
            // A char literal ('"', '\''); a lifetime or a label ('a) has no closing quote.
            let len = if at(i + 1, "\\") {
                3 + c[i + 3..].iter().take_while(|c| **c != '\'').count()
            } else {
                2
            };
            out.push('\'');
            out.extend(std::iter::repeat_n(' ', len - 1));
            out.push('\'');
            i += len + 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Imports between modules, each edge with the first import that makes it.
#[derive(Default)]
struct Graph(BTreeMap<String, BTreeMap<String, String>>);

impl Graph {
    fn new() -> Self {
        Self::default()
    }

    fn edge(&mut self, from: &str, to: &str, import: &str) {
        let targets = self.0.entry(from.to_string()).or_default();
        targets
            .entry(to.to_string())
            .or_insert_with(|| import.to_string());
    }

    /// A circle, as `a -> b -> a`, if the imports make one.
    fn circle(&self) -> Option<Vec<String>> {
        fn visit(
            graph: &Graph,
            node: &str,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(start) = path.iter().position(|n| n == node) {
                let mut circle = path[start..].to_vec();
                circle.push(node.to_string());
                return Some(circle);
            }
            if done.contains(node) {
                return None;
            }
            path.push(node.to_string());
            for next in graph.0.get(node).into_iter().flat_map(|t| t.keys()) {
                if let Some(circle) = visit(graph, next, path, done) {
                    return Some(circle);
                }
            }
            path.pop();
            done.insert(node.to_string());
            None
        }
        let mut done = BTreeSet::new();
        self.0
            .keys()
            .find_map(|node| visit(self, node, &mut Vec::new(), &mut done))
    }

    /// The import behind each step of a circle.
    fn evidence(&self, circle: &[String]) -> String {
        circle
            .windows(2)
            .map(|step| {
                format!(
                    "  {} -> {}: {}",
                    step[0], step[1], self.0[&step[0]][&step[1]]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
