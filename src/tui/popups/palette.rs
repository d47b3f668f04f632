//! The `:` command line: what an operator types, parsed against the catalog and the tenants
//! when enter is pressed. A command the line cannot read is said, and nothing happens.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::complete::complete;
use super::{Edit, Reply, edit};
use crate::tui::history::Conditions;
use crate::tui::query::{Query, nearest, state_words};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::views::Tab;
use crate::tui::widgets::status_line;
use estate_engine::Slug;
use estate_engine::{Action, TenantSelection};

/// The line being typed.
#[derive(Debug, Default)]
pub struct CommandLine {
    text: String,
    /// What tab completion left to choose from, or found nothing for.
    note: Option<String>,
}

impl CommandLine {
    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        let edited = edit(&mut self.text, key);
        if !matches!(edited, Edit::Completing | Edit::Ignored) {
            self.note = None;
        }
        match edited {
            Edit::Changed | Edit::Ignored => Reply::Stay,
            Edit::Completing => {
                let known = Known::of(shared);
                self.note = known.complete(&mut self.text);
                Reply::Stay
            }
            Edit::Emptied | Edit::Dismissed => Reply::Close,
            Edit::Submitted => match parse(&self.text, &Known::of(shared)) {
                Ok(command) => Reply::Command(command),
                Err(e) => {
                    shared.warn(e);
                    Reply::Close
                }
            },
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let note = self
            .note
            .as_ref()
            .map(|n| Span::styled(n.clone(), style::note()));
        status_line::input(frame, area, ":", &self.text, note);
    }
}

/// The names a command line may use: the modules, and the tenants' slugs in sorted order.
pub struct Known {
    pub modules: Vec<String>,
    pub slugs: Vec<String>,
}

impl Known {
    pub fn of(shared: &Shared) -> Known {
        let mut slugs: Vec<String> = shared
            .data
            .tenants()
            .iter()
            .map(|t| t.slug.clone())
            .collect();
        slugs.sort_unstable();
        Known {
            modules: shared.data.matrix.modules.clone(),
            slugs,
        }
    }

    fn is_module(&self, m: &str) -> bool {
        self.modules.iter().any(|x| x == m)
    }

    fn is_tenant(&self, t: &str) -> bool {
        self.slugs.binary_search_by(|s| s.as_str().cmp(t)).is_ok()
    }

    /// The slugs from `first` to `last`, in sorted order: `t0100..t0199`.
    fn range(&self, word: &str) -> Result<Vec<Slug>, String> {
        let malformed = || format!("{word} is not a range: write FIRST..LAST, e.g. t0100..t0199");
        let (first, last) = word.split_once("..").ok_or_else(malformed)?;
        if first.is_empty() || last.is_empty() || last.contains("..") {
            return Err(malformed());
        }
        for end in [first, last] {
            Slug::parse(end).map_err(|e| format!("{word}: {e}"))?;
        }
        if first > last {
            return Err(format!(
                "{word} runs backwards: write the smaller slug first, {last}..{first}"
            ));
        }
        let slugs: Vec<Slug> = self
            .slugs
            .iter()
            .filter(|s| s.as_str() >= first && s.as_str() <= last)
            .filter_map(|s| Slug::parse(s).ok())
            .collect();
        if slugs.is_empty() {
            return Err(format!(
                "no tenant between {first} and {last}: the Tenants view (2) lists them"
            ));
        }
        Ok(slugs)
    }

    /// Completes the last word of `text`: the command, then what the command takes.
    fn complete(&self, text: &mut String) -> Option<String> {
        let mut words = text.split_whitespace();
        let verb = words.next().unwrap_or_default().to_string();
        let first = words.next().is_none() && !text.ends_with(char::is_whitespace);
        let modules = self.modules.iter().map(String::as_str);
        let slugs = self.slugs.iter().map(String::as_str);
        let space = |_: &str| " ";
        if first {
            return complete(text, VERBS.iter().copied(), space);
        }
        match verb.as_str() {
            "install" | "i" | "upgrade" | "u" | "migrate" => {
                complete(text, modules.chain(slugs).chain(["all"]), space)
            }
            "rollback" | "r" => complete(
                text,
                modules.chain(slugs).chain(["all", "--cascade"]),
                space,
            ),
            "tenant" | "t" => complete(text, slugs, space),
            "module" | "m" => complete(text, modules, space),
            "history" | "h" => {
                let states: Vec<&str> = state_words().collect();
                let flags = ["--since", "--failed"];
                complete(text, modules.chain(slugs).chain(states).chain(flags), space)
            }
            _ => Some(format!(":{verb} takes nothing to complete")),
        }
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteCommand {
    Act {
        action: Action,
        modules: Vec<String>,
        tenants: TenantSelection,
        cascade: bool,
    },
    /// Select a tenant in the Matrix.
    Tenant(String),
    /// Select a module in the Modules view.
    Module(String),
    /// The History view filtered so.
    History(Query),
    View(Tab),
    Cancel,
    Reload,
    Verify,
    Help,
    Quit {
        force: bool,
    },
}

/// The commands, for the error message of an unknown one.
pub const COMMANDS: &str =
    "install, rollback, upgrade, tenant, module, history, cancel, reload, verify, help, q";

/// The command words tab completes (the one-letter forms need none).
const VERBS: &[&str] = &[
    "install", "rollback", "upgrade", "migrate", "tenant", "module", "history", "modules",
    "tenants", "matrix", "jobs", "cancel", "reload", "verify", "help", "quit", "quit!",
];

/// Parses `line` (without the `:`), knowing the module names and tenant slugs. Tenants may be
/// named one by one or as ranges (`t0100..t0199`).
pub fn parse(line: &str, known: &Known) -> Result<PaletteCommand, String> {
    let is_module = |m: &str| known.is_module(m);
    let is_tenant = |t: &str| known.is_tenant(t);
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Err(format!("type a command: {COMMANDS}"));
    };
    let one = |what: &str| -> Result<String, String> {
        match args {
            [x] => Ok(x.to_string()),
            _ => Err(format!(":{verb} takes one {what}")),
        }
    };
    Ok(match verb {
        "install" | "i" | "rollback" | "r" | "upgrade" | "u" | "migrate" => {
            let action = match verb {
                "install" | "i" => Action::Install,
                "rollback" | "r" => Action::Rollback,
                _ => Action::Upgrade,
            };
            let (mut modules, mut tenants, mut all, mut cascade) =
                (Vec::new(), Vec::new(), false, false);
            for a in args {
                match *a {
                    "--cascade" | "cascade" if action == Action::Rollback => cascade = true,
                    "--cascade" | "cascade" => {
                        return Err(format!("--cascade only applies to :rollback, not :{verb}"));
                    }
                    "--all" | "all" => all = true,
                    m if is_module(m) => modules.push(m.to_string()),
                    t if is_tenant(t) => tenants.push(Slug::parse(t).map_err(|e| e.to_string())?),
                    range if range.contains("..") => tenants.extend(known.range(range)?),
                    other => {
                        let names = known.modules.iter().chain(&known.slugs);
                        return Err(match nearest(other, names.map(String::as_str)) {
                            Some(near) => format!(
                                "{other} is no module or tenant: did you mean {near}? (tab completes names)"
                            ),
                            None => format!(
                                "{other} is no module or tenant: tab completes names; views 1 and 2 list them"
                            ),
                        });
                    }
                }
            }
            if modules.is_empty() {
                return Err(format!(
                    ":{verb} needs a module, e.g. :{verb} calendar acme"
                ));
            }
            let tenants = match (all, tenants.is_empty()) {
                (true, true) => TenantSelection::All,
                (false, false) => TenantSelection::Only(tenants),
                (true, false) => return Err("name tenants or say all, not both".to_string()),
                (false, true) => {
                    return Err(format!(
                        ":{verb} needs tenants (or all), e.g. :{verb} {} acme",
                        modules[0]
                    ));
                }
            };
            PaletteCommand::Act {
                action,
                modules,
                tenants,
                cascade,
            }
        }
        "tenant" | "t" => {
            let t = one("tenant slug")?;
            if !is_tenant(&t) {
                return Err(format!("no tenant {t}: the Tenants view (2) lists them"));
            }
            PaletteCommand::Tenant(t)
        }
        "module" | "m" => {
            let m = one("module name")?;
            if !is_module(&m) {
                return Err(format!("no module {m}: the Modules view (1) lists them"));
            }
            PaletteCommand::Module(m)
        }
        "history" | "h" => PaletteCommand::History(history_query(args, known)?),
        "modules" => PaletteCommand::View(Tab::Modules),
        "tenants" => PaletteCommand::View(Tab::Tenants),
        "matrix" => PaletteCommand::View(Tab::Matrix),
        "jobs" => PaletteCommand::View(Tab::Jobs),
        "cancel" => PaletteCommand::Cancel,
        "reload" => PaletteCommand::Reload,
        "verify" | "v" => PaletteCommand::Verify,
        "help" => PaletteCommand::Help,
        "q" | "quit" => PaletteCommand::Quit { force: false },
        "q!" | "quit!" => PaletteCommand::Quit { force: true },
        other => {
            return Err(format!(
                "unknown command :{other}; the commands are {COMMANDS}"
            ));
        }
    })
}

/// `:history`'s words as the History filter spells them (`--since WHEN` is `since:WHEN`,
/// `--failed` is `failed`), refused here, with the fix, unless the registry can be asked them.
fn history_query(args: &[&str], known: &Known) -> Result<Query, String> {
    let mut words = Vec::new();
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        let since = match arg {
            "--since" => Some(*args.next().ok_or(
                ":history --since needs a time: a span back from now (30m, 12h, 7d, 2w) or a date (2026-12-01)",
            )?),
            _ => arg.strip_prefix("--since="),
        };
        words.push(match (since, arg) {
            (Some(when), _) => format!("since:{when}"),
            (None, "--failed") => "failed".to_string(),
            (None, word) => word.to_string(),
        });
    }
    let query = Query::parse(&words.join(" "), &known.modules)?;
    Conditions::read(&query, &known.modules, |t| known.is_tenant(t))?;
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            modules: vec!["calendar".into(), "digital_card".into()],
            slugs: [
                "acme", "globex", "t0099", "t0100", "t0150", "t0199", "t0200",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn p(line: &str) -> Result<PaletteCommand, String> {
        parse(line, &known())
    }

    fn tenants(line: &str) -> Vec<String> {
        match p(line) {
            Ok(PaletteCommand::Act {
                tenants: TenantSelection::Only(t),
                ..
            }) => t.iter().map(|s| s.to_string()).collect(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn ranges_take_the_slugs_between_in_sorted_order() {
        assert_eq!(
            tenants("rollback calendar t0100..t0199 acme"),
            ["t0100", "t0150", "t0199", "acme"]
        );
        assert_eq!(tenants("i calendar t0100..t0101"), ["t0100"]);
        refused(&[
            ("i calendar t0100..", "is not a range: write FIRST..LAST"),
            ("i calendar ..t0199", "is not a range"),
            ("i calendar a..b..c", "is not a range"),
            (
                "i calendar t0199..t0100",
                "runs backwards: write the smaller slug first",
            ),
            ("i calendar x0..x9", "no tenant between x0 and x9"),
            ("i calendar T0..t9", "T0..t9"),
        ]);
    }

    /// Each line refused, saying so.
    fn refused(cases: &[(&str, &str)]) {
        for (line, says) in cases {
            let e = p(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn tab_completes_commands_and_names() {
        let k = known();
        let mut text = "roll".to_string();
        assert_eq!(k.complete(&mut text), None);
        assert_eq!(text, "rollback ");
        text.push_str("cal");
        k.complete(&mut text);
        assert_eq!(text, "rollback calendar ");
        text.push_str("t01");
        let note = k.complete(&mut text).unwrap();
        assert_eq!(text, "rollback calendar t01");
        assert!(note.starts_with("3 of them: t0100 t0150 t0199"), "{note}");
        text.push_str("00..t019");
        k.complete(&mut text);
        assert_eq!(text, "rollback calendar t0100..t0199 ");
    }

    #[test]
    fn commands() {
        assert_eq!(
            p("install digital_card acme"),
            Ok(PaletteCommand::Act {
                action: Action::Install,
                modules: vec!["digital_card".into()],
                tenants: TenantSelection::Only(vec![Slug::parse("acme").unwrap()]),
                cascade: false,
            })
        );
        assert!(matches!(
            p("rollback calendar all --cascade"),
            Ok(PaletteCommand::Act {
                cascade: true,
                tenants: TenantSelection::All,
                ..
            })
        ));
        assert_eq!(
            p("tenant globex"),
            Ok(PaletteCommand::Tenant("globex".into()))
        );
        assert_eq!(p("q"), Ok(PaletteCommand::Quit { force: false }));
        assert!(p("install calendar").unwrap_err().contains("needs tenants"));
        assert!(
            p("install nope acme")
                .unwrap_err()
                .contains("nope is no module or tenant")
        );
        assert!(p("frobnicate").unwrap_err().contains("unknown command"));
        assert!(p("tenant nobody").unwrap_err().contains("no tenant nobody"));
        let Ok(PaletteCommand::History(query)) = p("history acme --since 12h --failed") else {
            panic!("{:?}", p("history acme --since 12h --failed"));
        };
        assert_eq!(query.text(), "acme since:12h failed");
        refused(&[
            (
                "history acme --since 12x",
                "neither a span of time nor a date; write a span",
            ),
            ("history acme --since", "--since needs a time"),
            ("history acm", "no module or tenant \"acm\""),
        ]);
    }
}
