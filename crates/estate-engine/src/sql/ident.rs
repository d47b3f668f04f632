//! Identifier quoting by the engines' rules, for the rare names estate must put in SQL text.

/// Quotes an identifier the standard SQL way, which both SQLite and PostgreSQL follow: wrap in
/// double quotes and double any double quote inside.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote_ident("acme"), "\"acme\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
