//! The filter's language, what `/` lets through: words separated by spaces, each of which must
//! hold for a row.
//!
//! - a state, as an operator would type it (`failed` or `✗`, `outdated`, `pending` or `↑`,
//!   `installed` or `✓`, `not_installed` or `·`): some module of the row is in that state;
//! - `module:state` (`billing:failed`): that module is in that state for the row;
//! - `key=value` or `key!=value` (`plan=enterprise`): the tenant's tags, as `--where` reads them;
//! - any other word: found in the row's text (slug, name, placement; a history row's fields).
//!
//! What a state means is the view's to say (a tenant's cells, a module's tenants, a history
//! row's outcome); a view with no states reads a state word as text. A `module:state` naming
//! no module, or no state, is refused with the fix, so the filter is never silently empty.

use estate_engine::{ModuleState, TagCondition, Tags};

/// The words an operator may type for each state, the first the one messages name.
const STATES: &[(&str, ModuleState)] = &[
    ("failed", ModuleState::Failed),
    ("✗", ModuleState::Failed),
    ("outdated", ModuleState::Outdated),
    ("pending", ModuleState::Outdated),
    ("↑", ModuleState::Outdated),
    ("installed", ModuleState::Installed),
    ("✓", ModuleState::Installed),
    ("not_installed", ModuleState::NotInstalled),
    ("not-installed", ModuleState::NotInstalled),
    ("·", ModuleState::NotInstalled),
];

/// The state words, for completion and for the messages that name them.
pub fn state_words() -> impl Iterator<Item = &'static str> {
    STATES.iter().map(|(w, _)| *w)
}

fn state_of(word: &str) -> Option<ModuleState> {
    STATES.iter().find(|(w, _)| *w == word).map(|(_, s)| *s)
}

/// One word of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Found in the row's text (lowercase).
    Text(String),
    /// Some module of the row in this state; the word as typed, for views without states.
    State(String, ModuleState),
    /// This module in this state.
    Cell(String, ModuleState),
    /// A condition on the tenant's tags; in a view of no tenants, the word as text.
    Tag(TagCondition),
}

/// A filter, parsed; empty lets every row through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// As typed.
    text: String,
    terms: Vec<Term>,
}

impl Query {
    /// Reads `text`, knowing the `modules` a `module:state` may name.
    pub fn parse(text: &str, modules: &[String]) -> Result<Query, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            // Tag values keep their case: `region=EU` is not `region=eu`.
            if word.contains('=') {
                let tag = TagCondition::parse(word).map_err(|e| {
                    let (problem, fix) = e.message_and_fix();
                    format!("{problem}: {}", fix.unwrap_or_default())
                })?;
                terms.push(Term::Tag(tag));
                continue;
            }
            let word = word.to_lowercase();
            if let Some(state) = state_of(&word) {
                terms.push(Term::State(word, state));
                continue;
            }
            let Some((module, state)) = word.split_once(':') else {
                terms.push(Term::Text(word));
                continue;
            };
            let known = modules.iter().any(|m| m == module);
            match state_of(state) {
                Some(s) if known => terms.push(Term::Cell(module.to_string(), s)),
                Some(_) => return Err(unknown_module(module, &word, modules)),
                None if known && state.is_empty() => {
                    return Err(format!(
                        "{word} needs a state after the colon: {module}:failed, {module}:outdated, {module}:installed or {module}:not_installed"
                    ));
                }
                None if known => {
                    return Err(format!(
                        "no state \"{state}\" in {word}: say {module}:failed, {module}:outdated, {module}:installed or {module}:not_installed"
                    ));
                }
                // Neither a module nor a state: text with a colon in it (a placement's
                // `server:database`).
                None => terms.push(Term::Text(word)),
            }
        }
        Ok(Query {
            text: text.trim().to_string(),
            terms,
        })
    }

    /// As typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Its words, read: for a view whose filter the registry answers.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether a row holds every term: `text` is its text (built only when a term reads it),
    /// `state(module, state)` whether that module (`None`: any) is in that state for the row,
    /// `None` when the view has no states (the word is then looked for as text).
    pub fn matches(
        &self,
        text: impl FnOnce() -> String,
        state: impl Fn(Option<&str>, ModuleState) -> Option<bool>,
    ) -> bool {
        self.matches_tagged(text, state, None)
    }

    /// `matches`, for a row of a tenant with these `tags`.
    pub fn matches_tagged(
        &self,
        text: impl FnOnce() -> String,
        state: impl Fn(Option<&str>, ModuleState) -> Option<bool>,
        tags: Option<&Tags>,
    ) -> bool {
        let mut text = Some(text);
        let mut haystack: Option<String> = None;
        let mut contains = |needle: &str| {
            let h = haystack
                .get_or_insert_with(|| text.take().map(|f| f().to_lowercase()).unwrap_or_default());
            h.contains(needle)
        };
        self.terms.iter().all(|term| match term {
            Term::Text(t) => contains(t),
            Term::State(word, s) => state(None, *s).unwrap_or_else(|| contains(word)),
            Term::Cell(m, s) => state(Some(m), *s).unwrap_or(false),
            Term::Tag(c) => match tags {
                Some(tags) => c.matches(tags),
                None => contains(&c.to_string().to_lowercase()),
            },
        })
    }
}

/// `no module "billng" in billng:failed`, with the module meant when one is near.
fn unknown_module(module: &str, word: &str, modules: &[String]) -> String {
    if module.is_empty() {
        return format!("{word} names no module: type module:state, e.g. billing:failed");
    }
    let fix = match nearest(module, modules.iter().map(String::as_str)) {
        Some(one) => format!(
            "did you mean {one}:{}?",
            word.split_once(':').unwrap_or_default().1
        ),
        None => "the Modules view (1) lists the modules".to_string(),
    };
    format!("no module \"{module}\" in {word}: {fix}")
}

/// The one name `word` is most likely a slip for (a prefix either way, or the same first
/// three letters), if exactly one is.
pub fn nearest<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let shares = |a: &str| a.chars().count() >= 3 && a.chars().take(3).eq(word.chars().take(3));
    let mut near = names
        .into_iter()
        .filter(|n| n.starts_with(word) || word.starts_with(n) || shares(n));
    let one = near.next()?;
    near.next().is_none().then_some(one)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules() -> Vec<String> {
        vec!["billing".into(), "calendar".into()]
    }

    fn q(text: &str) -> Result<Query, String> {
        Query::parse(text, &modules())
    }

    /// A row with billing failed and calendar installed, text "acme Acme Corp".
    fn row(query: &Query) -> bool {
        query.matches(
            || "acme Acme Corp var/tenants/acme.db".to_string(),
            |m, s| {
                Some(match m {
                    Some("billing") => s == ModuleState::Failed,
                    Some("calendar") => s == ModuleState::Installed,
                    Some(_) => false,
                    None => matches!(s, ModuleState::Failed | ModuleState::Installed),
                })
            },
        )
    }

    #[test]
    fn states_cells_and_text() {
        assert!(row(&q("failed").unwrap()));
        assert!(row(&q("✗ acme").unwrap()));
        assert!(!row(&q("pending").unwrap()));
        assert!(row(&q("billing:failed").unwrap()));
        assert!(row(&q("Billing:Failed calendar:✓").unwrap()));
        assert!(!row(&q("calendar:failed").unwrap()));
        assert!(!row(&q("globex").unwrap()));
        assert!(row(&q("").unwrap()));
        // A colon that names neither a module nor a state is text.
        assert_eq!(
            q("main:tenant_db").unwrap().terms,
            [Term::Text("main:tenant_db".into())]
        );
        // A view without states reads the word.
        let failed = q("failed").unwrap();
        assert!(failed.matches(|| "rollback failed".into(), |_, _| None));
        assert!(!failed.matches(|| "rollback succeeded".into(), |_, _| None));
    }

    #[test]
    fn tags_match_a_tenant_s_tags_and_keep_their_case() {
        let tags: Tags = [
            ("plan".to_string(), "enterprise".to_string()),
            ("region".to_string(), "EU".to_string()),
        ]
        .into();
        let on = |text: &str| {
            q(text)
                .unwrap()
                .matches_tagged(|| "acme".into(), |_, _| None, Some(&tags))
        };
        assert!(on("plan=enterprise"));
        assert!(on("plan=enterprise region=EU acme"));
        assert!(!on("region=eu"));
        assert!(on("plan!=free"));
        assert!(!on("plan!=enterprise"));
        assert!(!on("tier=gold"));
        assert!(q("plan=").unwrap_err().contains("empty value"));
    }

    #[test]
    fn unknown_modules_and_states_are_refused_with_the_fix() {
        assert_eq!(
            q("billng:failed").unwrap_err(),
            "no module \"billng\" in billng:failed: did you mean billing:failed?"
        );
        assert!(
            q("crm:failed")
                .unwrap_err()
                .contains("the Modules view (1) lists the modules")
        );
        let e = q("billing:broken").unwrap_err();
        assert!(
            e.contains("no state \"broken\"") && e.contains("billing:failed"),
            "{e}"
        );
        assert!(q("billing:").unwrap_err().contains("needs a state"));
        assert!(q(":failed").unwrap_err().contains("names no module"));
    }
}
