//! Every key of the console, declared once, as data: the keys, the command each gives, where
//! they work (the views, some views, one window, the line typed at the bottom), how the `?`
//! overlay spells them and what they do, and the short hint a status line or a window's
//! footer shows. Dispatch, the help overlay, the status line's reminder and the windows'
//! footers are all read from [`BINDINGS`], so a key cannot do one thing and be documented as
//! another.
//!
//! A key gives the same command in every view (`i` plans the marks from the Jobs view too); a
//! binding's views are where the help lists it, and a view ignores what it has no use for. A
//! window reads its own bindings only, then, when it scrolls, the views' moving keys.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::command::Command::{self, *};
use super::views::Tab;
use Place::{Line, Only, Views};

/// A key as a binding names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The key without ctrl; shift and alt are not looked at (terminals report them unevenly).
    Plain(KeyCode),
    /// A letter with ctrl.
    Ctrl(char),
    /// The key whatever the modifiers.
    Any(KeyCode),
}

impl Key {
    fn matches(self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Plain(code) => !ctrl && key.code == code,
            Key::Ctrl(c) => ctrl && key.code == KeyCode::Char(c),
            Key::Any(code) => key.code == code,
        }
    }
}

/// The windows that read keys of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Planning,
    Confirm,
    Refused,
    Quit,
    Detail,
    Help,
    /// The line typed in the confirm window: a guarded rollback's modules' names; in the
    /// removal window, the tenant's slug.
    Typing,
    /// A tenant's removal, before its slug is typed.
    Remove,
    /// The end of a wave, before the next.
    Wave,
}

impl Window {
    /// Whether its text scrolls with the views' moving keys.
    fn scrolls(self) -> bool {
        matches!(self, Window::Confirm | Window::Refused | Window::Detail)
    }
}

/// Where a binding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Every view.
    Views,
    /// These views: the help lists it there (the key gives its command in the others too).
    Only(&'static [Tab]),
    Window(Window),
    /// The line typed at the bottom (a filter, a command): the keys not bound here are text.
    Line,
}

/// One declaration: keys, their commands, where, and how the help and the hints name them.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub place: Place,
    pub keys: &'static [(Key, Command)],
    /// The keys as the `?` overlay spells them, and what they do; `None` keeps it out.
    pub help: Option<(&'static str, &'static str)>,
    /// The keys and a word or two, for a status line or a window's footer.
    pub hint: Option<(&'static str, &'static str)>,
}

const fn bind(place: Place, keys: &'static [(Key, Command)]) -> Binding {
    Binding {
        place,
        keys,
        help: None,
        hint: None,
    }
}

impl Binding {
    const fn help(self, keys: &'static str, what: &'static str) -> Binding {
        Binding {
            help: Some((keys, what)),
            ..self
        }
    }

    const fn hint(self, keys: &'static str, what: &'static str) -> Binding {
        Binding {
            hint: Some((keys, what)),
            ..self
        }
    }

    fn gives(&self, command: Command) -> bool {
        self.keys.iter().any(|(_, c)| *c == command)
    }

    fn in_views(&self) -> bool {
        matches!(self.place, Place::Views | Place::Only(_))
    }
}

const fn key(code: KeyCode) -> Key {
    Key::Plain(code)
}

const fn ch(c: char) -> Key {
    Key::Plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key::Ctrl(c)
}

const fn any(code: KeyCode) -> Key {
    Key::Any(code)
}

const fn any_ch(c: char) -> Key {
    Key::Any(KeyCode::Char(c))
}

const ACTING: &[Tab] = &[Tab::Modules, Tab::Tenants, Tab::Matrix];

/// Every key, in the order the help lists them.
pub const BINDINGS: &[Binding] = &[
    // The views.
    bind(
        Views,
        &[
            (key(KeyCode::Tab), NextTab),
            (key(KeyCode::BackTab), PrevTab),
        ],
    )
    .help("tab / shift-tab", "next / previous view"),
    bind(
        Views,
        &[
            (ch('1'), GoTo(0)),
            (ch('2'), GoTo(1)),
            (ch('3'), GoTo(2)),
            (ch('4'), GoTo(3)),
            (ch('5'), GoTo(4)),
        ],
    )
    .help("1 2 3 4 5", "Modules, Tenants, Matrix, Jobs, History"),
    bind(
        Views,
        &[
            (ch('j'), Down),
            (key(KeyCode::Down), Down),
            (ch('k'), Up),
            (key(KeyCode::Up), Up),
        ],
    )
    .help("j k / ↓ ↑", "move down / up")
    .hint("j/k", "scroll"),
    bind(
        Only(&[Tab::Matrix]),
        &[
            (ch('h'), Left),
            (key(KeyCode::Left), Left),
            (ch('l'), Right),
            (key(KeyCode::Right), Right),
        ],
    )
    .help("h l / ← →", "move left / right across modules"),
    bind(
        Views,
        &[
            (ctrl('d'), PageDown),
            (ctrl('u'), PageUp),
            (key(KeyCode::PageDown), PageDown),
            (key(KeyCode::PageUp), PageUp),
        ],
    )
    .help("ctrl-d ctrl-u / pgdn pgup", "page down / up"),
    bind(
        Views,
        &[
            (ch('g'), Top),
            (ch('G'), Bottom),
            (key(KeyCode::Home), Top),
            (key(KeyCode::End), Bottom),
        ],
    )
    .help("g G / home end", "first / last row"),
    bind(Only(&[Tab::Matrix]), &[(ch(' '), Mark)])
        .help("space", "mark the cell")
        .hint("space", "mark"),
    bind(Only(&[Tab::Modules]), &[(ch(' '), Mark)])
        .help("space", "mark the module for every tenant shown"),
    bind(Only(&[Tab::Tenants]), &[(ch(' '), Mark)])
        .help("space", "mark the tenant for every module"),
    bind(Only(ACTING), &[(ch('V'), Range)])
        .help("V", "mark a range: V, move, V again (esc leaves)"),
    bind(
        Only(ACTING),
        &[(ch('i'), Install), (ch('r'), Rollback), (ch('u'), Upgrade)],
    )
    .help("i r u", "install / roll back / upgrade marks or cursor")
    .hint("i/r/u", "act"),
    bind(
        Only(&[Tab::Modules, Tab::Tenants, Tab::Matrix, Tab::History]),
        &[(ch('n'), NextTrouble), (ch('N'), PrevTrouble)],
    )
    .help("n N", "next / previous ✗ failed or ↑ pending"),
    bind(Only(&[Tab::Matrix]), &[(ch('s'), Sort)])
        .help("s", "tenants by this module's state (again: slug)"),
    bind(Only(&[Tab::Tenants]), &[(ch('s'), Sort)])
        .help("s", "tenants by trouble, most ✗ first (again: slug)"),
    bind(Only(&[Tab::Tenants]), &[(ch('X'), Remove)])
        .help("X", "remove the tenant (its slug typed to confirm)"),
    bind(Only(&[Tab::Modules]), &[(ch('m'), Map)])
        .help("m", "map: graph and tables (m again: the list)"),
    bind(Only(&[Tab::Tenants, Tab::Matrix]), &[(ch('v'), Verify)])
        .help("v", "verify registry, ledgers, files; drift: Matrix"),
    bind(Only(&[Tab::Jobs]), &[(key(KeyCode::Enter), Enter)])
        .help("enter", "log pane: focus (j k, G follows); again: whole"),
    bind(Only(&[Tab::Jobs]), &[(ch('t'), TenantFilter)])
        .help("t", "log pane: every tenant, then each one's lines"),
    bind(Only(&[Tab::Jobs]), &[(ch('c'), Cancel)]).help(
        "c",
        "cancel the job (any process's) at a migration boundary",
    ),
    bind(Only(&[Tab::Jobs]), &[(ch('R'), Retry)])
        .help("R", "retry: plan its failed, skipped, not started steps"),
    // Follows the log as G does; the help names G only.
    bind(Only(&[Tab::Jobs]), &[(ch('f'), Follow)]),
    bind(
        Only(&[Tab::Modules, Tab::Tenants, Tab::Matrix, Tab::History]),
        &[(key(KeyCode::Enter), Enter)],
    )
    .help("enter", "details"),
    bind(Views, &[(ch('/'), Filter)])
        .help("/", "filter: text, ✗, billing:failed (esc clears)")
        .hint("/", "filter"),
    bind(Views, &[(ch(':'), Palette)])
        .help(":", "command: :install calendar acme, :tenant t, :q")
        .hint(":", "command"),
    bind(
        Views,
        &[(ctrl('r'), Refresh), (key(KeyCode::F(5)), Refresh)],
    )
    .help("ctrl-r / F5", "reload from the databases"),
    bind(Views, &[(ch('?'), Help)])
        .help("?", "this help")
        .hint("?", "help"),
    bind(Views, &[(key(KeyCode::Esc), Back)]).help("esc", "close, back out, clear marks"),
    bind(Views, &[(ch('q'), Quit), (ctrl('c'), Quit)])
        .help("q / ctrl-c", "quit (asks while jobs run)")
        .hint("q", "quit"),
    // The windows. Their answers take any modifier: ctrl held from a chord still answers.
    bind(
        Place::Window(Window::Planning),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
        ],
    )
    .hint("esc", "abandons"),
    // A confirmation defaults to no: enter cancels, and only y runs. The window offers one of
    // y's two hints: a rollback over several databases asks for its modules' names typed.
    bind(Place::Window(Window::Confirm), &[(any_ch('y'), Yes)]).hint("y", "run it"),
    bind(
        Place::Window(Window::Confirm),
        &[(any_ch('y'), TypeToConfirm)],
    )
    .hint("y", "confirm by name"),
    bind(Place::Window(Window::Confirm), &[(any_ch('s'), Sql)]).hint("s", "SQL/plan"),
    bind(Place::Window(Window::Confirm), &[(any_ch('w'), Waves)]).hint("w", "waves"),
    bind(
        Place::Window(Window::Confirm),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
            (any(KeyCode::Enter), No),
        ],
    )
    .hint("n/esc/enter", "cancel"),
    bind(
        Place::Window(Window::Typing),
        &[(any(KeyCode::Enter), Submit)],
    )
    .hint("enter", "runs it if the names match"),
    bind(
        Place::Window(Window::Typing),
        &[(any(KeyCode::Esc), Dismiss)],
    )
    .hint("esc", "cancels"),
    bind(
        Place::Window(Window::Typing),
        &[(any(KeyCode::Backspace), Erase)],
    ),
    // A removal: its options, then the slug typed (Typing) before anything happens.
    bind(Place::Window(Window::Remove), &[(any_ch('r'), Rollback)])
        .hint("r", "plan the rollback of its modules"),
    bind(
        Place::Window(Window::Remove),
        &[(any_ch('d'), DropDatabase)],
    )
    .hint("d", "drop its database too (again: keep it)"),
    bind(
        Place::Window(Window::Remove),
        &[(any_ch('y'), TypeToConfirm)],
    )
    .hint("y", "type its slug to remove it"),
    bind(
        Place::Window(Window::Remove),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
            (any(KeyCode::Enter), No),
        ],
    )
    .hint("n/esc/enter", "cancel"),
    bind(Place::Window(Window::Wave), &[(any_ch('y'), Yes)]).hint("y", "start the next wave"),
    bind(
        Place::Window(Window::Wave),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
            (any(KeyCode::Enter), No),
        ],
    )
    .hint("n/esc/enter", "stop the rollout here"),
    bind(Place::Window(Window::Refused), &[(any_ch('c'), Cascade)])
        .hint("c", "plan it with --cascade"),
    bind(
        Place::Window(Window::Refused),
        &[
            (any_ch('y'), No),
            (any(KeyCode::Enter), No),
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
        ],
    )
    .hint("esc", "close"),
    bind(
        Place::Window(Window::Quit),
        &[(any_ch('y'), Yes), (ch('q'), Yes), (ctrl('c'), Yes)],
    )
    .hint("y/q", "cancel the jobs and quit"),
    bind(
        Place::Window(Window::Quit),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
            (any(KeyCode::Enter), No),
        ],
    )
    .hint("n/esc", "stay"),
    bind(Place::Window(Window::Detail), &[(any_ch('t'), ToVersion)])
        .hint("t", "roll back to a version"),
    bind(
        Place::Window(Window::Detail),
        &[
            (any_ch('n'), No),
            (any(KeyCode::Esc), No),
            (any_ch('q'), No),
            (any(KeyCode::Enter), No),
        ],
    )
    .hint("esc/enter", "close"),
    // Any other key closes the help.
    bind(
        Place::Window(Window::Help),
        &[(ch('q'), Quit), (ctrl('c'), Quit)],
    ),
    // The line typed at the bottom.
    bind(Line, &[(any(KeyCode::Enter), Submit)]),
    bind(Line, &[(any(KeyCode::Esc), Dismiss)]),
    bind(Line, &[(any(KeyCode::Backspace), Erase)]),
    bind(Line, &[(any(KeyCode::Tab), Complete)]),
];

/// The commands the status line reminds of, in its order.
const REMINDED: &[Command] = &[Help, Mark, Install, Filter, Palette, Quit];

fn find(key: KeyEvent, place: impl Fn(&Binding) -> bool) -> Option<Command> {
    BINDINGS
        .iter()
        .filter(|b| place(b))
        .flat_map(|b| b.keys)
        .find(|(k, _)| k.matches(key))
        .map(|(_, c)| *c)
}

/// What `key` asks of a view.
pub fn in_views(key: KeyEvent) -> Option<Command> {
    find(key, Binding::in_views)
}

/// What `key` asks of `window`.
pub fn in_window(window: Window, key: KeyEvent) -> Option<Command> {
    find(key, |b| b.place == Place::Window(window))
        .or_else(|| in_views(key).filter(|c| window.scrolls() && c.moves()))
}

/// What `key` asks of the line being typed; `None` when it is text.
pub fn in_line(key: KeyEvent) -> Option<Command> {
    find(key, |b| b.place == Line)
}

/// Whether a binding's keys change databases: read-only, the console does not name them.
fn acts(b: &Binding) -> bool {
    b.keys.iter().any(|(_, c)| c.acts())
}

/// The help overlay's lines for `tab`: the keys as spelled, and what they do; read-only,
/// not the keys that act.
pub fn help(tab: Tab, read_only: bool) -> Vec<(&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| match b.place {
            Views => true,
            Only(tabs) => tabs.contains(&tab),
            Place::Window(_) | Line => false,
        })
        .filter(|b| !(read_only && acts(b)))
        .filter_map(|b| b.help)
        .collect()
}

fn hint_text((keys, what): (&str, &str)) -> String {
    format!("{keys} {what}")
}

/// The status line's reminder of the main keys; read-only, not the keys that act.
pub fn reminder(read_only: bool) -> String {
    REMINDED
        .iter()
        .filter(|c| !(read_only && c.acts()))
        .filter_map(|c| {
            BINDINGS
                .iter()
                .find(|b| b.in_views() && b.hint.is_some() && b.gives(*c))
                .and_then(|b| b.hint)
        })
        .map(hint_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// `window`'s footer: the hints of its keys whose command is `offered`, then scrolling.
pub fn footer(window: Window, offered: impl Fn(Command) -> bool) -> String {
    let own = BINDINGS
        .iter()
        .filter(|b| b.place == Place::Window(window) && b.keys.iter().any(|(_, c)| offered(*c)))
        .filter_map(|b| b.hint);
    let scroll = BINDINGS
        .iter()
        .find(|b| window.scrolls() && b.in_views() && b.hint.is_some() && b.gives(Down))
        .and_then(|b| b.hint);
    own.chain(scroll)
        .map(hint_text)
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests;
