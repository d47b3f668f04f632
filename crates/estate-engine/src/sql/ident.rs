//! Identifier and literal quoting by the engines' rules, for the rare names and values estate
//! must put in SQL text.

/// Quotes an identifier the standard SQL way, which both SQLite and PostgreSQL follow: wrap in
/// double quotes and double any double quote inside.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a value as a PostgreSQL escape-string literal (`E'..'`): its backslashes and
/// quotes doubled, it reads the same whatever the server's `standard_conforming_strings`.
pub fn quote_pg_literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_literals_double_backslashes_and_quotes() {
        assert_eq!(quote_pg_literal("acme"), "E'acme'");
        assert_eq!(quote_pg_literal("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(
            quote_pg_literal("x\\'; DROP TABLE t; --"),
            "E'x\\\\''; DROP TABLE t; --'"
        );
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote_ident("acme"), "\"acme\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
