//! The parsing of one blueprint file: what it accepts, and that every refusal names its key
//! and line.

use std::path::Path;

use super::{Blueprint, OnDelete};

fn parse(text: &str) -> Result<Blueprint, Vec<String>> {
    Blueprint::parse(Path::new("b.toml"), text)
        .map_err(|ps| ps.iter().map(ToString::to_string).collect())
}

#[test]
fn a_table_with_every_kind_of_column() {
    let b = parse(
        r##"
[[create_table]]
name = "shares"
columns = [
  { name = "id", type = "id" },
  { name = "card_id", type = "bigint", references = "cards.id", on_delete = "cascade" },
  { name = "token", type = "uuid", unique = true },
  { name = "fee", type = "decimal(10,2)", default = "0.00" },
  { name = "note", type = "text", nullable = true },
]
indexes = [{ columns = ["card_id", "fee"] }]

[[add_column]]
table = "cards"
column = { name = "color", type = "string(7)", default = "#fff" }

[[add_index]]
table = "cards"
columns = ["color"]
unique = true
"##,
    )
    .unwrap();
    let t = &b.create_tables[0];
    assert!(t.column("id").unwrap().primary_key);
    assert_eq!(t.indexes[0].name, "shares_card_id_fee_idx");
    assert_eq!(
        t.column("card_id")
            .unwrap()
            .references
            .as_ref()
            .unwrap()
            .on_delete,
        Some(OnDelete::Cascade)
    );
    assert_eq!(b.add_indexes[0].index.name, "cards_color_idx");
    assert_eq!(b.references().count(), 1);
}

#[test]
fn problems_name_the_key_and_line() {
    let e = parse(
        "[[create_table]]\nname = \"t\"\ncolumns = [\n  { name = \"a\", type = \"varchar(3)\" },\n]\n",
    )
    .unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("b.toml:4:"), "{}", e[0]);
    assert!(e[0].contains("create_table[0].columns[0].type"), "{}", e[0]);
    assert!(e[0].contains("string(n)"), "{}", e[0]);

    let e = parse("[[create_table]]\nname = \"t\"\ncolums = []\n").unwrap_err();
    assert!(e[0].contains("colums"), "{e:?}");

    let e = parse("[[add_column]]\ntable = \"t\"\ncolumn = { name = \"c\", type = \"integer\" }\n")
        .unwrap_err();
    assert!(
        e[0].contains("add_column[0].column") && e[0].contains("default"),
        "{e:?}"
    );
}

#[test]
fn what_cannot_be_rendered_is_refused() {
    for (text, key) in [
        (
            r#"[[create_table]]
name = "T"
columns = [{ name = "id", type = "id" }]"#,
            "create_table[0].name",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id" }, { name = "id", type = "text" }]"#,
            "columns[1].name",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id" }, { name = "x", type = "integer", primary_key = true }]"#,
            "create_table[0].columns",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "id", type = "id", nullable = true }]"#,
            "columns[0].nullable",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
indexes = [{ columns = ["b"] }]"#,
            "indexes[0].columns",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", on_delete = "cascade" }]"#,
            "columns[0].on_delete",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", references = "u.id", on_delete = "set null" }]"#,
            "columns[0].on_delete",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer", references = "u" }]"#,
            "columns[0].references",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
primary_key = ["a", "b"]"#,
            "create_table[0].primary_key",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "p", type = "bigint", references = "t.p" }]"#,
            "columns[0].references",
        ),
        (
            r#"[[add_column]]
table = "t"
column = { name = "id", type = "id" }"#,
            "add_column[0].column.type",
        ),
        (
            r#"[[add_column]]
table = "t"
column = { name = "u", type = "bigint", references = "u.id", default = 1 }"#,
            "add_column[0].column.references",
        ),
        (
            r#"[[add_index]]
table = "t"
columns = []"#,
            "add_index[0].columns",
        ),
        (
            r#"[[create_table]]
name = "sqlite_stat9"
columns = [{ name = "id", type = "id" }]"#,
            "create_table[0].name",
        ),
        (
            r#"[[create_table]]
name = "estate_ledger"
columns = [{ name = "id", type = "id" }]"#,
            "create_table[0].name",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "xmin", type = "integer" }]"#,
            "columns[0].name",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "integer" }]
primary_key = ["a", "a"]"#,
            "create_table[0].primary_key",
        ),
        (
            r#"[[add_column]]
table = "t"
column = { name = "at", type = "timestamp", default = "now" }"#,
            "add_column[0].column.default",
        ),
        (
            r#"[[add_column]]
table = "t"
column = { name = "code", type = "text", unique = true, default = "x" }"#,
            "add_column[0].column.default",
        ),
        (
            r#"[[create_table]]
name = "t"
columns = [{ name = "a", type = "text", default = "a\u0000b" }]"#,
            "columns[0].default",
        ),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.iter().any(|p| p.contains(key)), "{key} not in {e:?}");
    }
}

#[test]
fn an_empty_blueprint_is_an_empty_migration() {
    assert_eq!(parse("# nothing yet\n").unwrap(), Blueprint::default());
}
