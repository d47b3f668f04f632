//! The console's questions to the registry's history: a request (who asks, which rows, which
//! page), the History filter's words read as the registry's conditions, and the lines a
//! cell's or a tenant's detail shows of an answer. The console keeps no history in memory
//! beyond the page asked for: a fleet's history is the registry's to count and to page, so
//! the 8,000th row counts as much as the newest.

use ratatui::text::{Line, Span};

use super::query::{Query, Term, nearest};
use super::style;
use super::widgets::text::{dim, history_line};
use estate_engine::{HistoryFilter, HistoryPage, ModuleState, TagCondition, parse_since};

/// Rows a History page holds: more than a screen, few enough to read in a blink.
pub const PAGE: i64 = 500;
/// Rows a cell's or a tenant's detail shows; `:history` pages through the rest.
pub const DETAIL_ROWS: i64 = 20;

/// Who asked, so the answer goes back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    History,
    /// A cell's detail: the filter names its tenant and module.
    Matrix,
    /// A tenant's detail: the filter names the tenant.
    Tenants,
}

/// A page of history to ask the registry for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    pub asker: Asker,
    pub filter: HistoryFilter,
}

impl HistoryRequest {
    /// The newest rows of a tenant (and a module) for a detail.
    pub fn detail(asker: Asker, tenant: String, module: Option<String>) -> HistoryRequest {
        HistoryRequest {
            asker,
            filter: HistoryFilter {
                tenant: Some(tenant),
                module,
                limit: Some(DETAIL_ROWS),
                ..HistoryFilter::default()
            },
        }
    }
}

/// The registry's answer, its refusal or failure as text.
pub type HistoryAnswer = Result<HistoryPage, String>;

/// What the History filter asks the registry for. `since` is kept as typed and read against
/// the clock at each request, so after a reload `12h` still means the last twelve hours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub module: Option<String>,
    pub tenant: Option<String>,
    pub failed: bool,
    pub since: Option<String>,
    /// `plan=enterprise`, `region!=eu`: the rows of tenants so tagged.
    pub tags: Vec<TagCondition>,
}

/// The words the History filter takes, for the message that refuses another.
const TAKES: &str = "the History filter takes a module, a tenant slug, a tag (plan=enterprise), failed, module:failed and since:12h";

impl Conditions {
    /// Reads a filter's words as conditions: a module name, a tenant slug (`is_tenant`),
    /// `failed`, `module:failed`, `since:WHEN`. Any other word is refused with the fix, as
    /// the registry cannot look for it.
    pub fn read(
        query: &Query,
        modules: &[String],
        is_tenant: impl Fn(&str) -> bool,
    ) -> Result<Conditions, String> {
        let mut c = Conditions::default();
        for term in query.terms() {
            match term {
                Term::State(_, ModuleState::Failed) => c.failed = true,
                Term::Cell(m, ModuleState::Failed) => {
                    c.failed = true;
                    one(&mut c.module, m, "module")?;
                }
                Term::Tag(tag) => c.tags.push(tag.clone()),
                Term::State(word, _) => return Err(not_outcome(word)),
                Term::Cell(m, _) => return Err(not_outcome(&format!("{m}:state"))),
                Term::Text(word) => {
                    if let Some(when) = word.strip_prefix("since:") {
                        parse_since(when).map_err(|e| format!("since:{when}: {}", one_line(&e)))?;
                        c.since = Some(when.to_string());
                    } else if modules.iter().any(|m| m == word) {
                        one(&mut c.module, word, "module")?;
                    } else if is_tenant(word) {
                        one(&mut c.tenant, word, "tenant")?;
                    } else {
                        return Err(match nearest(word, modules.iter().map(String::as_str)) {
                            Some(m) => format!("no module or tenant \"{word}\": did you mean {m}?"),
                            None => format!("no module or tenant \"{word}\": {TAKES}"),
                        });
                    }
                }
            }
        }
        Ok(c)
    }

    /// The registry's filter for `limit` rows from `offset` (newest first).
    pub fn filter(&self, offset: i64, limit: i64) -> Result<HistoryFilter, String> {
        let since = match &self.since {
            Some(when) => Some(parse_since(when).map_err(|e| one_line(&e))?),
            None => None,
        };
        Ok(HistoryFilter {
            module: self.module.clone(),
            tenant: self.tenant.clone(),
            job: None,
            since,
            outcome: self.failed.then(|| "failed".to_string()),
            limit: Some(limit),
            offset,
            tags: self.tags.clone(),
        })
    }
}

/// A second module (or tenant) in one filter: the registry is asked about one.
fn one(slot: &mut Option<String>, name: &str, what: &str) -> Result<(), String> {
    match slot {
        Some(first) if first != name => Err(format!(
            "one {what} at a time in History: {first} or {name}"
        )),
        _ => {
            *slot = Some(name.to_string());
            Ok(())
        }
    }
}

fn not_outcome(word: &str) -> String {
    format!("{word}: a history row succeeded or failed; failed (or module:failed) shows the failed")
}

/// A refusal on one line, its fix after a semicolon: the status line has one.
pub fn one_line(e: &estate_engine::Error) -> String {
    e.to_string().replace("\n  fix: ", "; ")
}

/// `7954` as `7,954`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A detail's history: `loading…` until the answer, the rows (with each error under its row
/// when `errors`), `nothing` when there are none, and how many more `more` shows.
pub fn detail_lines(
    answer: Option<&HistoryAnswer>,
    errors: bool,
    nothing: &str,
    more: &str,
) -> Vec<Line<'static>> {
    let page = match answer {
        None => return vec![dim("  loading…")],
        Some(Err(e)) => {
            let first = e.lines().next().unwrap_or_default();
            return vec![Line::from(Span::styled(
                format!("  the history could not be read: {first}"),
                style::failed(),
            ))];
        }
        Some(Ok(page)) => page,
    };
    if page.rows.is_empty() {
        return vec![dim(format!("  {nothing}"))];
    }
    let mut lines = Vec::new();
    for h in &page.rows {
        lines.push(history_line(h));
        if let Some(e) = h.error.as_ref().filter(|_| errors) {
            lines.extend(
                e.lines()
                    .map(|l| Line::from(Span::styled(format!("    {l}"), style::failed()))),
            );
        }
    }
    let rest = page.total - page.offset - page.rows.len() as i64;
    if rest > 0 {
        lines.push(dim(format!("  {} more: {more}", thousands(rest))));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Conditions, String> {
        let modules = vec!["billing".to_string(), "calendar".to_string()];
        let query = Query::parse(text, &modules)?;
        Conditions::read(&query, &modules, |t| t == "acme" || t == "t0042")
    }

    #[test]
    fn words_become_conditions_and_others_are_refused_with_the_fix() {
        assert_eq!(
            read("t0042 billing:failed since:12h plan=free"),
            Ok(Conditions {
                module: Some("billing".into()),
                tenant: Some("t0042".into()),
                failed: true,
                since: Some("12h".into()),
                tags: vec![TagCondition::parse("plan=free").unwrap()],
            })
        );
        assert_eq!(read("✗").map(|c| c.failed), Ok(true));
        let e = read("since:12x").unwrap_err();
        assert!(
            e.contains("neither a span of time nor a date; write a span"),
            "{e}"
        );
        assert!(read("bill").unwrap_err().contains("did you mean billing?"));
        assert!(read("glo").unwrap_err().contains(TAKES));
        assert!(
            read("billing calendar")
                .unwrap_err()
                .contains("one module at a time")
        );
        assert!(
            read("installed")
                .unwrap_err()
                .contains("succeeded or failed")
        );
        assert!(
            read("billing:installed")
                .unwrap_err()
                .contains("succeeded or failed")
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7954), "7,954");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
