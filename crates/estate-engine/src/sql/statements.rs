//! Splits a migration script into its statements, as each engine reads it. The migrator needs
//! it for the migrations that run outside a transaction (`-- no-transaction`): PostgreSQL runs
//! a multi-statement query string as one implicit transaction, where `CREATE INDEX
//! CONCURRENTLY` is refused, so each statement goes alone, and running them one by one is what
//! lets estate say how far a failed one got. The catalog's table map reads the DDL of each
//! statement. Pure text, in `sql/` so the catalog and the migrator both use it.
//!
//! Semicolons count only outside quotes ('…', E'…' with backslash escapes, "…", `…`, […]),
//! dollar quotes ($$…$$, $tag$…$tag$) and comments (-- to the end of the line, /* … */,
//! nested on PostgreSQL only, as each engine reads them). A body whose statements end in `;`
//! (SQLite's `CREATE TRIGGER … BEGIN … END`, PostgreSQL's `BEGIN ATOMIC … END`) ends only at a
//! `;` right after `END`, the rule SQLite's own `sqlite3_complete` follows. Comments before a
//! statement are left out of it; statements that hold nothing but comments and blanks are
//! dropped.

use super::Engine;

/// The statements of `sql` as `engine` reads them, each without its closing `;`, trimmed.
pub fn split(sql: &str, engine: Engine) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let nested_comments = engine == Engine::Postgres;
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut meaningful = false;
    // Inside a body that only `END ;` closes, and the last word read.
    let mut body = false;
    let mut last_word: &str = "";
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match c {
            b'-' if next == Some(b'-') => {
                i = find_from(bytes, i, b"\n").map_or(bytes.len(), |n| n + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = block_comment_end(bytes, i, nested_comments);
                continue;
            }
            b';' if body && !last_word.eq_ignore_ascii_case("END") => {
                last_word = "";
                i += 1;
                continue;
            }
            b';' => {
                if meaningful {
                    out.push(sql[start..i].trim());
                }
                meaningful = false;
                body = false;
                last_word = "";
                start = i + 1;
                i += 1;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
                    .map_or(bytes.len(), |n| i + n);
                let word = &sql[i..end];
                if !meaningful {
                    meaningful = true;
                    start = i;
                }
                if !body {
                    body = opens_body(&sql[start..end], word, last_word);
                }
                last_word = word;
                i = end;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() && !meaningful {
            // A statement starts at its first word: comments before it stay behind.
            meaningful = true;
            start = i;
        }
        i = match c {
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'E' | b'e') && !word_before(bytes, i - 1);
                quoted_end(bytes, i, b'\'', escapes)
            }
            b'"' => quoted_end(bytes, i, b'"', false),
            b'`' => quoted_end(bytes, i, b'`', false),
            b'[' => find_from(bytes, i + 1, b"]").map_or(bytes.len(), |n| n + 1),
            b'$' if !word_before(bytes, i) => dollar_end(bytes, i).unwrap_or(i + 1),
            _ => i + 1,
        };
    }
    if meaningful {
        out.push(sql[start..].trim());
    }
    out
}

/// Whether `word` (just read, after `previous`) opens a body only `END ;` closes, in a
/// statement that so far reads `so_far`.
fn opens_body(so_far: &str, word: &str, previous: &str) -> bool {
    let upper = |s: &str| s.to_ascii_uppercase();
    match upper(word).as_str() {
        // PostgreSQL's SQL-standard function bodies.
        "ATOMIC" => previous.eq_ignore_ascii_case("BEGIN"),
        // SQLite's triggers: CREATE [TEMP|TEMPORARY] TRIGGER … BEGIN.
        "BEGIN" => {
            let words: Vec<String> = so_far.split_whitespace().take(3).map(upper).collect();
            words.first().is_some_and(|w| w == "CREATE")
                && words[1..].iter().any(|w| w == "TRIGGER")
        }
        _ => false,
    }
}

/// Whether the byte before `i` continues an identifier (so `$1` or `a$b` is no dollar quote,
/// and `name'` is no E-string).
fn word_before(bytes: &[u8], i: usize) -> bool {
    i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] >= 0x80)
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Past the quote closing the one at `open`; a doubled quote stays inside, as does a
/// backslash-escaped one in an E-string. Unclosed: the end of the script.
fn quoted_end(bytes: &[u8], open: usize, quote: u8, escapes: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            c if c == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the end of the block comment opening at `open` (counting nested ones with `nested`).
fn block_comment_end(bytes: &[u8], open: usize, nested: bool) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') if nested || depth == 0 => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the dollar quote opening at `open` (`$$` or `$tag$`), or `None` when what is there
/// is no dollar quote (a parameter like `$1`).
fn dollar_end(bytes: &[u8], open: usize) -> Option<usize> {
    let tag_len = bytes[open + 1..]
        .iter()
        .position(|&b| b == b'$')
        .filter(|&n| {
            let tag = &bytes[open + 1..open + 1 + n];
            tag.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
                && !tag.first().is_some_and(u8::is_ascii_digit)
        })?;
    let tag = &bytes[open..open + tag_len + 2];
    let body = open + tag.len();
    Some(find_from(bytes, body, tag).map_or(bytes.len(), |close| close + tag.len()))
}

#[cfg(test)]
mod tests {
    use super::split;
    use crate::sql::Engine::{Postgres, Sqlite};

    #[test]
    fn plain_statements_and_comments() {
        for engine in [Sqlite, Postgres] {
            assert_eq!(
                split(
                    "-- no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\n\n/* two; */ CREATE INDEX CONCURRENTLY b ON t (y);\n-- done;\n",
                    engine
                ),
                [
                    "CREATE INDEX CONCURRENTLY a ON t (x)",
                    "CREATE INDEX CONCURRENTLY b ON t (y)"
                ]
            );
            assert_eq!(split("SELECT 1", engine), ["SELECT 1"]);
            assert!(split("-- only a comment;\n/* and; another */;;", engine).is_empty());
        }
    }

    #[test]
    fn semicolons_inside_quotes_and_bodies_stay() {
        let sql = "INSERT INTO t VALUES ('a;''b', E'c\\';d', \"x;y\");\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   DO $$ BEGIN PERFORM 1; END $$;\n\
                   SELECT $1, a$b FROM [odd;name];\n\
                   /* nested /* ; */ still; */ SELECT 2";
        let got = split(sql, Postgres);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(got[0].ends_with("\"x;y\")"));
        assert!(got[1].ends_with("LANGUAGE sql"));
        assert!(got[2].starts_with("DO $$"));
        assert!(got[3].ends_with("[odd;name]"));
        assert!(got[4].ends_with("SELECT 2"));
    }

    #[test]
    fn comments_nest_on_postgresql_only() {
        let sql = "/* see /* the notes */ CREATE TABLE audit (id INTEGER); VACUUM;";
        // SQLite ends the comment at the first */: two statements follow it.
        assert_eq!(
            split(sql, Sqlite),
            ["CREATE TABLE audit (id INTEGER)", "VACUUM"]
        );
        // PostgreSQL is still inside the outer comment, to the end.
        assert!(split(sql, Postgres).len() <= 1);
    }

    #[test]
    fn bodies_end_only_at_end() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  INSERT INTO y VALUES (1);\n  UPDATE z SET n = n + 1;\nEND;\nVACUUM;";
        assert_eq!(
            split(trigger, Sqlite),
            [
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  INSERT INTO y VALUES (1);\n  UPDATE z SET n = n + 1;\nEND",
                "VACUUM"
            ]
        );
        let temp = "create temp trigger t before delete on x begin select 1; end; select 2";
        assert_eq!(split(temp, Sqlite).len(), 2);
        let atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nCREATE INDEX CONCURRENTLY i ON t (x);";
        let got = split(atomic, Postgres);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].ends_with("END"));
        // A transaction's BEGIN opens no body.
        assert_eq!(split("BEGIN; SELECT 1; COMMIT;", Postgres).len(), 3);
    }

    #[test]
    fn unclosed_quotes_run_to_the_end() {
        for engine in [Sqlite, Postgres] {
            assert_eq!(split("SELECT 'a; b", engine), ["SELECT 'a; b"]);
            assert_eq!(split("SELECT $x$ a; b", engine), ["SELECT $x$ a; b"]);
            assert_eq!(split("SELECT /* a; b", engine), ["SELECT /* a; b"]);
        }
    }
}
