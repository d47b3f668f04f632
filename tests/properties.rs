//! Property tests of what estate reads from outside before it trusts it: the `context.toml`
//! parser, the migration file-name parser, the dependency graph's cycle finding, tenant slug
//! and display-name validation, identifier quoting, the line-ending-blind checksum, and
//! blueprints (any text parsed without a panic, names, text defaults stored exactly on SQLite).
//!
//! Each property is checked against a small reference written here without the code under
//! test, on inputs proptest generates and, on a failure, shrinks to a minimal one. The number
//! of cases is proptest's (256) unless `PROPTEST_CASES` says otherwise; CI sets it in .ci/run.
//! Failures are not persisted to files: a real regression gets a plain test of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use estate_engine::catalog::blueprint::{Blueprint, is_valid_identifier, render};
use estate_engine::catalog::{
    Context, DependencyGraph, Manifest, Problem, checksum, is_valid_context_name, parse_file_name,
};
use estate_engine::sql::Engine;
use estate_engine::sql::quote_ident;
use estate_engine::tenancy::{MAX_NAME, Slug, check_name};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        // No proptest-regressions/ files in the tree; the case count still comes from
        // PROPTEST_CASES, which ProptestConfig::default() reads.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// --- references ------------------------------------------------------------------------------

/// `[a-z][a-z0-9_]*`, at most 63 bytes.
fn reference_context_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// `[a-z0-9][a-z0-9_-]{0,62}`.
fn reference_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

/// Not blank, no control character, at most MAX_NAME characters.
fn reference_name(s: &str) -> bool {
    !s.chars().all(char::is_whitespace)
        && !s.chars().any(char::is_control)
        && s.chars().count() <= MAX_NAME
}

/// A TOML basic string holding exactly `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn parse_manifest(text: &str, folder: &str) -> (Option<Manifest>, Vec<Problem>) {
    let mut problems = Vec::new();
    let path = Path::new("contexts/x/context.toml");
    let manifest = Manifest::parse(path, text, folder, &mut problems);
    (manifest, problems)
}

/// What every outcome of the manifest parser must satisfy, whatever the text.
fn assert_manifest_outcome(text: &str, folder: &str) -> (Option<Manifest>, Vec<Problem>) {
    let (manifest, problems) = parse_manifest(text, folder);
    for p in &problems {
        assert!(
            p.location.starts_with("contexts/x/context.toml"),
            "{p:?} names the file"
        );
        assert!(!p.message.is_empty() && !p.fix.is_empty(), "{p:?}");
    }
    match &manifest {
        None => assert!(!problems.is_empty(), "an unusable manifest says why"),
        Some(m) => {
            assert!(reference_context_name(&m.name), "{:?}", m.name);
            assert_eq!(m.name, folder);
            assert_ne!(m.name, "module_registry");
            assert_eq!(m.requires.len(), m.requires_at.len());
            let distinct: BTreeSet<&String> = m.requires.iter().collect();
            assert_eq!(
                distinct.len(),
                m.requires.len(),
                "requires listed once each"
            );
        }
    }
    (manifest, problems)
}

/// Characters that are not control characters, from every part of Unicode, quotes and SQL
/// punctuation more often than chance would pick them.
fn printable_char() -> impl Strategy<Value = char> {
    prop_oneof![
        // Mapped rather than filtered: filters give up after too many rejections at high case
        // counts.
        3 => any::<char>().prop_map(|c| if c.is_control() { '\u{b7}' } else { c }),
        1 => prop::sample::select(vec!['\'', '"', ';', '-', '\\', '.', ' ', '_', 'é', '🦀', 'ש']),
    ]
}

/// A control character (Unicode's Cc: C0, DEL, C1).
fn control_char() -> impl Strategy<Value = char> {
    prop_oneof![0u32..0x20, Just(0x7f), 0x80u32..0xa0]
        .prop_map(|c| char::from_u32(c).expect("a scalar value"))
}

fn printable_string(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(printable_char(), len).prop_map(|v| v.into_iter().collect())
}

/// A string of `len` characters, the first from `first`, the rest from `rest`: lengths around
/// a limit, which uniform lengths would seldom hit.
fn of_length(
    first: &'static str,
    rest: &'static str,
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    let first: Vec<char> = first.chars().collect();
    let rest: Vec<char> = rest.chars().collect();
    len.prop_flat_map(move |n| {
        (
            prop::sample::select(first.clone()),
            prop::collection::vec(prop::sample::select(rest.clone()), n - 1),
        )
    })
    .prop_map(|(c, tail)| std::iter::once(c).chain(tail).collect())
}

const LOWER_DIGITS: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// A context name, valid or not: mostly near the rule, sometimes anything.
fn context_name() -> impl Strategy<Value = String> {
    prop_oneof![
        of_length("abcxyz", "az09_", 62..=65),
        "[a-z][a-z0-9_]{0,70}",
        "[a-zA-Z0-9_ ;'-]{0,12}",
        any::<String>(),
    ]
}

// --- context.toml ----------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Any text at all: no panic, and either a manifest that keeps the rules or a problem that
    /// names the file.
    #[test]
    fn the_manifest_parser_takes_any_text(text in any::<String>(), folder in context_name()) {
        assert_manifest_outcome(&text, &folder);
    }

    /// Any bytes, as the loader would get them once they are UTF-8 (lossily here: the loader
    /// refuses non-UTF-8 before parsing).
    #[test]
    fn the_manifest_parser_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        assert_manifest_outcome(&String::from_utf8_lossy(&bytes), "x");
    }

    /// Text shaped like TOML, with keys and values of every kind, gets past the TOML parser to
    /// the checks behind it.
    #[test]
    fn the_manifest_parser_takes_any_toml_like_text(
        lines in prop::collection::vec(
            (
                prop::sample::select(vec!["name", "title", "version", "description", "requires", "require", "Name", ""]),
                prop_oneof![
                    any::<String>().prop_map(|s| toml_string(&s)),
                    Just("[\"a\", \"a\"]".to_string()),
                    Just("[\"x'; DROP TABLE y; --\"]".to_string()),
                    Just("1".to_string()),
                    Just("[".to_string()),
                    "[ -~]{0,20}",
                ],
            ),
            0..8,
        ),
        folder in context_name(),
    ) {
        let text: String = lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        assert_manifest_outcome(&text, &folder);
    }

    /// A well-formed manifest parses to exactly what it says: title, version, description and
    /// requires (hostile as they may be) verbatim; the name exactly when it keeps the rule.
    #[test]
    fn a_well_formed_manifest_reads_back_verbatim(
        name in context_name(),
        title in printable_string(0..40),
        version in printable_string(1..12).prop_filter("not blank", |v| !v.trim().is_empty()),
        description in prop::collection::vec(
            prop_oneof![9 => printable_char(), 1 => Just('\n'), 1 => Just('\t')], 0..60,
        ).prop_map(|v| v.into_iter().collect::<String>()),
        requires in prop::collection::btree_set(context_name(), 0..5),
    ) {
        let requires: Vec<String> = requires.into_iter().collect();
        let list: Vec<String> = requires.iter().map(|r| toml_string(r)).collect();
        let text = format!(
            "name = {}\ntitle = {}\nversion = {}\ndescription = {}\nrequires = [{}]\n",
            toml_string(&name),
            toml_string(&title),
            toml_string(&version),
            toml_string(&description),
            list.join(", "),
        );
        let (manifest, problems) = assert_manifest_outcome(&text, &name);
        let valid = reference_context_name(&name) && name != "module_registry";
        prop_assert_eq!(manifest.is_some(), valid, "{:?}", problems);
        if let Some(m) = manifest {
            prop_assert!(problems.is_empty(), "{:?}", problems);
            prop_assert_eq!(m.title, title);
            prop_assert_eq!(m.version, version);
            prop_assert_eq!(m.description, description);
            prop_assert_eq!(m.requires, requires);
        } else {
            prop_assert!(problems[0].message.contains("context name") || problems[0].message.contains("reserved"));
            prop_assert!(problems[0].location.ends_with(":1:8"), "{:?}", problems);
        }
    }

    /// A control character in the title is a problem at its line, never a title.
    #[test]
    fn a_control_character_in_the_title_is_a_problem(
        before in printable_string(0..10),
        control in control_char(),
        after in printable_string(0..10),
    ) {
        let title = format!("{before}{control}{after}");
        let text = format!("name = \"x\"\ntitle = {}\nversion = \"1\"\n", toml_string(&title));
        let (_, problems) = assert_manifest_outcome(&text, "x");
        prop_assert_eq!(problems.len(), 1, "{:?}", problems);
        prop_assert!(problems[0].message.starts_with("title contains the control character"));
        prop_assert!(problems[0].location.ends_with(":2:9"), "{:?}", problems);
    }

    #[test]
    fn context_names_follow_the_rule(name in context_name()) {
        prop_assert_eq!(is_valid_context_name(&name), reference_context_name(&name));
    }
}

// --- migration file names --------------------------------------------------------------------

fn direction() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["up", "down"])
}

fn engine() -> impl Strategy<Value = Option<Engine>> {
    prop::sample::select(vec![None, Some(Engine::Sqlite), Some(Engine::Postgres)])
}

fn engine_suffix(engine: Option<Engine>) -> String {
    engine
        .map(|e| format!(".{}", e.as_str()))
        .unwrap_or_default()
}

/// A description sqlx-cli would accept: no control character, not empty.
fn description() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{1,30}",
        printable_string(1..30),
        Just("x.up".to_string()),
        Just("x.down.sqlite".to_string()),
        Just("..".to_string()),
        Just("it's; DROP TABLE t; --".to_string()),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any name at all: no panic; a name that does not end in `.sql` (in any case) is not a
    /// migration and is ignored; an error is a sentence.
    #[test]
    fn the_file_name_parser_takes_any_name(name in any::<String>()) {
        let sql_like = name.to_ascii_lowercase().ends_with(".sql");
        match parse_file_name(&name) {
            Ok(None) => prop_assert!(!sql_like, "{:?} is ignored", name),
            Ok(Some(f)) => {
                prop_assert!(name.ends_with(".sql"));
                prop_assert!(f.version >= 0);
                prop_assert!(!f.description.is_empty());
                prop_assert!(!f.description.chars().any(char::is_control));
            }
            Err(message) => {
                prop_assert!(sql_like, "{:?}: {}", name, message);
                prop_assert!(!message.is_empty());
            }
        }
    }

    /// `<version>_<description>.<up|down>[.<engine>].sql`, leading zeros or not, reads back
    /// as what was written (underscores of the description as spaces, as sqlx-cli records it).
    #[test]
    fn valid_file_names_round_trip(
        // From 1: version 0 is refused for itself (the ledger's "nothing applied").
        version in 1..=i64::MAX,
        zeros in 0usize..6,
        description in description(),
        direction in direction(),
        engine in engine(),
    ) {
        let name = format!(
            "{}{version}_{description}.{direction}{}.sql",
            "0".repeat(zeros),
            engine_suffix(engine)
        );
        let f = parse_file_name(&name)
            .unwrap_or_else(|e| panic!("{name:?}: {e}"))
            .unwrap_or_else(|| panic!("{name:?} ignored"));
        prop_assert_eq!(f.version, version);
        prop_assert_eq!(f.description, description.replace('_', " "));
        prop_assert_eq!(format!("{:?}", f.direction).to_lowercase(), direction);
        prop_assert_eq!(f.engine, engine);
    }

    /// Versions that do not fit an i64 are refused as too large, never wrapped or truncated.
    #[test]
    fn versions_that_overflow_are_refused(
        version in (i64::MAX as u128 + 1)..=u128::MAX,
        direction in direction(),
    ) {
        let name = format!("{version}_x.{direction}.sql");
        let message = parse_file_name(&name).unwrap_err();
        prop_assert!(message.contains("too large"), "{}", message);
    }

    /// A version that is not all ASCII digits (signs, letters, other scripts' digits) is
    /// refused, naming it.
    #[test]
    fn versions_that_are_not_numbers_are_refused(
        version in "[-+a-zA-Z0-9٥ ]{0,8}".prop_filter("not all ASCII digits", |v| {
            v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit())
        }).prop_filter("no underscore", |v| !v.contains('_')),
        direction in direction(),
    ) {
        let name = format!("{version}_x.{direction}.sql");
        let message = parse_file_name(&name).unwrap_err();
        prop_assert!(message.contains("is not a number"), "{}", message);
    }

    /// No description, or one with a control character, is refused.
    #[test]
    fn descriptions_must_be_there_and_printable(
        // From 1: version 0 is refused for itself, before its description is read.
        version in 1..10_000i64,
        control in control_char(),
        direction in direction(),
    ) {
        for name in [format!("{version}.{direction}.sql"), format!("{version}_.{direction}.sql")] {
            let message = parse_file_name(&name).unwrap_err();
            prop_assert!(message.contains("no description"), "{}: {}", name, message);
        }
        let name = format!("{version}_a{control}b.{direction}.sql");
        let message = parse_file_name(&name).unwrap_err();
        prop_assert!(message.contains("control characters"), "{}", message);
    }

    /// A migration name whose extension is `.sql` in another case is refused, not ignored:
    /// ignored, it would never run.
    #[test]
    fn an_upper_case_extension_is_refused(
        version in 1..10_000i64,
        extension in "\\.[sS][qQ][lL]".prop_filter("not lowercase", |e| e != ".sql"),
        direction in direction(),
    ) {
        let name = format!("{version:04}_x.{direction}{extension}");
        let message = parse_file_name(&name).unwrap_err();
        prop_assert!(message.contains("lowercase"), "{}", message);
    }

    /// Backups and editors' leftovers beside a migration are not migrations.
    #[test]
    fn leftovers_are_ignored(
        version in 1..10_000i64,
        direction in direction(),
        suffix in prop::sample::select(vec![".bak", "~", ".orig", ".swp", ".sql.old", ".txt", ""]),
    ) {
        let name = format!("{version:04}_x.{direction}.sql{suffix}");
        if suffix.is_empty() {
            prop_assert!(parse_file_name(&name).unwrap().is_some());
        } else {
            prop_assert_eq!(parse_file_name(&name), Ok(None));
        }
    }
}

// --- the dependency graph --------------------------------------------------------------------

/// Contexts `m0`..`m{n-1}` requiring each other as `edges` says.
fn contexts(edges: &BTreeMap<usize, BTreeSet<usize>>) -> BTreeMap<String, Context> {
    edges
        .iter()
        .map(|(n, deps)| {
            let name = format!("m{n}");
            let requires: Vec<String> = deps.iter().map(|d| format!("m{d}")).collect();
            let requires_at = requires
                .iter()
                .map(|r| format!("contexts/{name}/context.toml ({r})"))
                .collect();
            let manifest = Manifest {
                name: name.clone(),
                title: name.clone(),
                version: "1".into(),
                description: String::new(),
                requires,
                requires_at,
                migrator_binary: None,
                migrator_command: None,
            };
            let context = Context {
                manifest,
                dir: PathBuf::from(format!("contexts/{name}")),
                sets: BTreeMap::new(),
            };
            (name, context)
        })
        .collect()
}

/// Whether the graph has a cycle, by Kahn's algorithm.
fn reference_has_cycle(edges: &BTreeMap<usize, BTreeSet<usize>>) -> bool {
    let mut remaining: BTreeMap<usize, BTreeSet<usize>> = edges
        .iter()
        .map(|(n, d)| {
            (
                *n,
                d.iter()
                    .copied()
                    .filter(|d| edges.contains_key(d))
                    .collect(),
            )
        })
        .collect();
    loop {
        let free: Vec<usize> = remaining
            .iter()
            .filter(|(_, d)| d.is_empty())
            .map(|(n, _)| *n)
            .collect();
        if free.is_empty() {
            return !remaining.is_empty();
        }
        for n in free {
            remaining.remove(&n);
            for d in remaining.values_mut() {
                d.remove(&n);
            }
        }
    }
}

fn graph_edges() -> impl Strategy<Value = BTreeMap<usize, BTreeSet<usize>>> {
    prop::collection::btree_map(
        0usize..8,
        prop::collection::btree_set(0usize..9, 0..3),
        0..8,
    )
}

proptest! {
    #![proptest_config(config())]

    /// A cycle is reported exactly when there is one, each reported cycle is one, and without
    /// cycles the install order puts every module after what it requires.
    #[test]
    fn cycles_are_found_exactly(edges in graph_edges()) {
        let contexts = contexts(&edges);
        let mut problems = Vec::new();
        let graph = DependencyGraph::build(&contexts, &mut problems);
        let cycles = graph.cycles();
        prop_assert_eq!(!cycles.is_empty(), reference_has_cycle(&edges), "{:?}", cycles);
        let reported = problems.iter().filter(|p| p.message.starts_with("dependency cycle: ")).count();
        prop_assert_eq!(reported, cycles.len());
        for cycle in &cycles {
            prop_assert!(cycle.len() >= 2 && cycle.first() == cycle.last(), "{:?}", cycle);
            prop_assert_eq!(cycle.iter().min(), cycle.first(), "starts at its smallest name");
            for pair in cycle.windows(2) {
                prop_assert!(graph.requires(&pair[0]).contains(&pair[1]), "{:?}", cycle);
            }
        }
        // Requirements that name no context are problems, one per entry.
        let unknown = edges.values().flatten().filter(|d| !edges.contains_key(d)).count();
        let reported = problems.iter().filter(|p| p.message.ends_with("which is no context")).count();
        prop_assert_eq!(reported, unknown);
        if cycles.is_empty() {
            let all: Vec<&str> = contexts.keys().map(String::as_str).collect();
            let order = graph.closure(all.iter().copied());
            prop_assert_eq!(order.len(), contexts.len());
            for (i, m) in order.iter().enumerate() {
                for r in graph.requires(m) {
                    let at = order.iter().position(|o| o == r).unwrap();
                    prop_assert!(at < i, "{} before {} in {:?}", r, m, order);
                }
            }
        }
    }
}

// --- tenants ---------------------------------------------------------------------------------

/// A slug, valid or not: mostly near the rule, sometimes anything.
fn slug_like() -> impl Strategy<Value = String> {
    prop_oneof![
        of_length(LOWER_DIGITS, "az09_-", 62..=65),
        "[a-z0-9][a-z0-9_-]{0,70}",
        "[a-zA-Z0-9_./ '\";-]{0,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Exactly `[a-z0-9][a-z0-9_-]{0,62}` is a slug, kept as typed; anything else is refused
    /// (exit status 2) with a suggestion that is itself a valid slug.
    #[test]
    fn slugs_are_exactly_the_rule(input in slug_like()) {
        match Slug::parse(&input) {
            Ok(slug) => {
                prop_assert!(reference_slug(&input), "{:?} accepted", input);
                prop_assert_eq!(slug.as_str(), input.as_str());
            }
            Err(e) => {
                prop_assert!(!reference_slug(&input), "{:?} refused", input);
                prop_assert!(e.is_refusal());
                let text = e.to_string();
                let suggestion = text.rsplit("e.g. ").next().unwrap();
                prop_assert!(reference_slug(suggestion), "suggested {:?} for {:?}", suggestion, input);
                prop_assert!(Slug::parse(suggestion).is_ok());
            }
        }
    }

    /// A display name is anything printable up to MAX_NAME characters: quotes, SQL, any script
    /// pass; blank, control characters or a longer name are refused with the rule.
    #[test]
    fn tenant_names_are_exactly_the_rule(
        name in prop_oneof![
            printable_string(0..30),
            any::<String>(),
            Just(" \u{3000}".to_string()),
            (MAX_NAME - 1..MAX_NAME + 2).prop_map(|n| "é".repeat(n)),
        ],
    ) {
        match check_name(&name) {
            Ok(()) => prop_assert!(reference_name(&name), "{:?} accepted", name),
            Err(e) => {
                prop_assert!(!reference_name(&name), "{:?} refused: {}", name, e);
                prop_assert!(e.is_refusal());
                prop_assert!(e.to_string().contains("leave out --name"));
            }
        }
    }
}

// --- identifiers and checksums ---------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Quoting wraps in double quotes and doubles each one inside, so the quoted name reads
    /// back as the name and nothing in it can close the quote early. NUL is passed through as
    /// it is: both engines refuse it in SQL text, and no name estate quotes can hold one.
    #[test]
    fn quoted_identifiers_read_back(
        name in prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(vec!['a', '"', '\'', '\\', '\0', '.', ' ']), 0..12)
                .prop_map(|v| v.into_iter().collect::<String>()),
        ],
    ) {
        let quoted = quote_ident(&name);
        prop_assert!(quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'));
        let inner = &quoted[1..quoted.len() - 1];
        // Every quote inside comes in a pair.
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '"' {
                prop_assert_eq!(chars.next(), Some('"'), "{:?}", quoted);
            }
        }
        prop_assert_eq!(inner.replace("\"\"", "\""), name.clone());
        prop_assert_eq!(quoted.contains('\0'), name.contains('\0'));
    }

    /// CRLF and lone CR read as LF, so a checkout's line endings are not drift; any other
    /// change is.
    #[test]
    fn checksums_ignore_line_endings_only(
        lines in prop::collection::vec("[ -~]{0,20}", 0..10),
        other in "[ -~]{1,20}",
    ) {
        let lf = lines.join("\n");
        prop_assert_eq!(checksum(lines.join("\r\n").as_bytes()), checksum(lf.as_bytes()));
        prop_assert_eq!(checksum(lines.join("\r").as_bytes()), checksum(lf.as_bytes()));
        let changed = format!("{lf}{other}");
        prop_assert_ne!(checksum(changed.as_bytes()), checksum(lf.as_bytes()));
        prop_assert_eq!(checksum(lf.as_bytes()).len(), 64);
    }
}

// --- blueprints ------------------------------------------------------------------------------

/// Blueprint table, column and index names: `[a-z_][a-z0-9_]*`, at most 63 bytes.
fn reference_blueprint_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// A blueprint whose one table has a text column with `default` (written as TOML escapes it).
fn blueprint_with_default(default: &str) -> String {
    format!(
        "[[create_table]]\nname = \"t\"\ncolumns = [\n  {{ name = \"id\", type = \"id\" }},\n  {{ name = \"d\", type = \"text\", default = {} }},\n]\n",
        toml::Value::String(default.to_string())
    )
}

/// Runs `sql` (the rendered blueprint) on a new in-memory SQLite database, inserts a row with
/// nothing given, and reads column `d` back.
fn default_stored_by_sqlite(sql: &str) -> String {
    use sqlx::{Connection, Row};
    static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    });
    RUNTIME.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO \"t\" DEFAULT VALUES")
            .execute(&mut conn)
            .await
            .unwrap();
        let row = sqlx::query("SELECT \"d\" FROM \"t\"")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        row.get::<String, _>(0)
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any text at all is either a blueprint or a list of problems, never a panic.
    #[test]
    fn the_blueprint_parser_takes_any_text(text in any::<String>()) {
        let _ = Blueprint::parse(Path::new("b.toml"), &text);
    }

    /// Names are accepted exactly when the reference says so.
    #[test]
    fn blueprint_identifiers_follow_the_rule(
        name in prop_oneof![
            any::<String>(),
            "[a-z_][a-z0-9_]{0,70}",
            "[a-zA-Z0-9_\"' ;-]{0,12}",
        ],
    ) {
        prop_assert_eq!(
            is_valid_identifier(&name),
            reference_blueprint_identifier(&name),
            "{:?}", name
        );
    }

    /// Whatever a text default holds (quotes, semicolons, comment markers, any script), SQLite
    /// stores exactly it: the default reaches the database as one literal, never as SQL.
    #[test]
    fn a_text_default_is_stored_exactly_as_written(
        default in prop_oneof![
            any::<String>(),
            prop::collection::vec(
                prop::sample::select(vec!["'", "''", "\"", ";", "--", "/*", "*/", "\\", "DROP TABLE t", "\n", "é", "😀", "a"]),
                0..10,
            ).prop_map(|v| v.concat()),
        ].prop_filter("SQLite text ends at NUL", |d| !d.contains('\0')),
    ) {
        let text = blueprint_with_default(&default);
        let blueprint = Blueprint::parse(Path::new("b.toml"), &text)
            .map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let sql = render::up(&blueprint, Engine::Sqlite);
        prop_assert_eq!(default_stored_by_sqlite(&sql), default);
        prop_assert_eq!(render::down(&blueprint, Engine::Sqlite), "DROP TABLE \"t\";\n");
    }
}
