//! Just enough of SQL's lexical rules to read the names a migration's DDL creates and drops.
//! Statements come from the splitter the migrator uses (quotes, dollar quotes, comments and
//! trigger bodies as each engine reads them); within one, comments are dropped, strings and
//! dollar-quoted bodies are opaque, quoted identifiers are kept whole and as written, and
//! unquoted words are folded to lowercase as both engines fold them.

use crate::sql::Engine;

/// One token of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An identifier or keyword: unquoted ones lowercased, quoted ones as written.
    Word { text: String, quoted: bool },
    /// `(`, `)`, `,`, `.` and any other single character that is not part of a word.
    Punct(char),
    /// A string literal or dollar-quoted body, whose content does not matter here.
    Literal,
}

impl Token {
    /// Whether this is the unquoted keyword `kw` (lowercase).
    pub fn is(&self, kw: &str) -> bool {
        matches!(self, Token::Word { text, quoted: false } if text == kw)
    }
}

/// The statements of `sql` as `engine` splits them ([`crate::sql::statements::split`], the
/// splitter the migrator uses), each as its tokens.
pub fn statements(sql: &str, engine: Engine) -> Vec<Vec<Token>> {
    crate::sql::statements::split(sql, engine)
        .into_iter()
        .map(tokens)
        .filter(|t| !t.is_empty())
        .collect()
}

/// The tokens of one statement: its comments dropped, its literals opaque.
fn tokens(statement: &str) -> Vec<Token> {
    let chars: Vec<char> = statement.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let closing = |from: usize, end: &str| -> usize {
        // The index just past `end` from `from`, or the end of the text.
        let end: Vec<char> = end.chars().collect();
        let mut j = from;
        while j + end.len() <= chars.len() {
            if chars[j..j + end.len()] == end[..] {
                return j + end.len();
            }
            j += 1;
        }
        chars.len()
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '-' if next == Some('-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => i = closing(i + 2, "*/"),
            '\'' => {
                // '' inside is an escaped quote: read on past it.
                let mut j = i + 1;
                loop {
                    j = closing(j, "'");
                    if chars.get(j) == Some(&'\'') {
                        j += 1;
                    } else {
                        break;
                    }
                }
                out.push(Token::Literal);
                i = j;
            }
            '"' | '`' | '[' => {
                let end = match c {
                    '"' => '"',
                    '`' => '`',
                    _ => ']',
                };
                let mut text = String::new();
                let mut j = i + 1;
                while j < chars.len() {
                    if chars[j] == end {
                        if end != ']' && chars.get(j + 1) == Some(&end) {
                            text.push(end);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    text.push(chars[j]);
                    j += 1;
                }
                out.push(Token::Word {
                    text: printable(&text),
                    quoted: true,
                });
                i = j + 1;
            }
            '$' if next.is_some_and(|n| n == '$' || n.is_alphabetic() || n == '_') => {
                // A dollar quote $tag$ … $tag$; `$1` (a parameter) is not one.
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if chars.get(j) == Some(&'$') {
                    let tag: String = chars[i..=j].iter().collect();
                    i = closing(j + 1, &tag);
                    out.push(Token::Literal);
                } else {
                    out.push(Token::Punct('$'));
                    i += 1;
                }
            }
            _ if c.is_alphanumeric() || c == '_' => {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$')
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                out.push(Token::Word {
                    text: printable(&word.to_lowercase()),
                    quoted: false,
                });
                i = j;
            }
            _ => {
                out.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    out
}

/// Names end up on the operator's terminal: no control character gets there.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The name at `tokens[i]`, qualified or not (`schema.table` reads as `table`), and the index
/// after it.
pub fn qualified_name(tokens: &[Token], mut i: usize) -> Option<(String, usize)> {
    loop {
        let Some(Token::Word { text, .. }) = tokens.get(i) else {
            return None;
        };
        i += 1;
        if tokens.get(i) == Some(&Token::Punct('.')) {
            i += 1;
        } else {
            return Some((text.clone(), i));
        }
    }
}

/// Skips the keywords `kws` in order wherever they appear at `i` (`IF NOT EXISTS`, `ONLY`).
pub fn skip(tokens: &[Token], mut i: usize, kws: &[&str]) -> usize {
    for kw in kws {
        if tokens.get(i).is_some_and(|t| t.is(kw)) {
            i += 1;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(sql: &str) -> Vec<Vec<String>> {
        statements(sql, Engine::Postgres)
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|t| match t {
                        Token::Word { text, quoted: true } => format!("\"{text}\""),
                        Token::Word { text, .. } => text,
                        Token::Punct(c) => c.to_string(),
                        Token::Literal => "'…'".into(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn comments_strings_and_bodies_are_not_statements() {
        let w = words(
            "-- Users; the core table\n/* 0001; */ CREATE TABLE Users (id INT DEFAULT 'a;b''c');\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nCREATE TABLE \"Order Items\" (\"x;y\" int)",
        );
        assert_eq!(w.len(), 3, "{w:?}");
        assert_eq!(w[0][..3], ["create", "table", "users"]);
        assert!(w[1].contains(&"'…'".to_string()));
        assert_eq!(w[2][..3], ["create", "table", "\"Order Items\""]);
        // A trigger's body is one statement with the trigger: its DROP is not a statement.
        let w = words("CREATE TRIGGER t AFTER INSERT ON a BEGIN DROP TABLE b; END; DROP TABLE c");
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[1], ["drop", "table", "c"]);
    }

    #[test]
    fn qualified_names_read_as_their_last_part() {
        let s = &statements("DROP TABLE public.a, \"s.x\".\"b.c\"", Engine::Sqlite)[0];
        assert_eq!(qualified_name(s, 2), Some(("a".to_string(), 5)));
        assert_eq!(qualified_name(s, 6), Some(("b.c".to_string(), 9)));
    }
}
