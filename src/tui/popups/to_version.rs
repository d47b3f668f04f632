//! A cell's module rolled back to a version (`t` in a Matrix cell's detail): the version is
//! typed, then planned as `rollback MODULE --to VERSION --scope tenant --tenant T` and shown
//! to confirm like any rollback. A version the module does not have is the planner's to
//! refuse, with the versions to choose from.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Edit, Planning, Popup, Reply, edit_with};
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, keys_line};
use crate::tui::worker::{CellRef, Effect, PlanGroup, PlanRequest};
use estate_engine::{Action, Slug, TenantSelection};

#[derive(Debug)]
pub struct VersionLine {
    cell: CellRef,
    typed: String,
    /// Why the last answer was not taken.
    wrong: Option<String>,
}

impl VersionLine {
    pub fn new(cell: CellRef) -> VersionLine {
        VersionLine {
            cell,
            typed: String::new(),
            wrong: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        match edit_with(&mut self.typed, key, keys::in_window(Window::Typing, key)) {
            Edit::Submitted => {
                let version = self.typed.trim().parse::<i64>().ok().filter(|v| *v > 0);
                let (Some(to), Ok(slug)) = (version, Slug::parse(&self.cell.tenant)) else {
                    self.wrong = Some(format!(
                        "\"{}\" is not a version: type its number, e.g. 2",
                        self.typed
                    ));
                    self.typed.clear();
                    return Reply::Stay;
                };
                let request = PlanRequest {
                    action: Action::Rollback,
                    groups: vec![PlanGroup {
                        modules: vec![self.cell.module.clone()],
                        tenants: TenantSelection::Only(vec![slug]),
                    }],
                    cascade: false,
                    to: Some(to),
                };
                shared.ask(Effect::Plan(request.clone()));
                Reply::Open(Popup::Planning(Planning::new(request)))
            }
            Edit::Dismissed => Reply::Close,
            Edit::Changed => {
                // Digits only: anything else is not part of a version.
                self.typed.retain(|c| c.is_ascii_digit());
                Reply::Stay
            }
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let c = &self.cell;
        let mut lines = vec![
            Line::from(format!(
                "Roll {} back on {} to the version typed: the migrations after it are reverted, the module stays installed.",
                c.module, c.tenant
            )),
            Line::default(),
            Line::from(format!("version: {}█", self.typed)),
        ];
        if let Some(wrong) = &self.wrong {
            lines.push(Line::from(Span::styled(wrong.clone(), style::failed())));
        }
        window::draw(
            frame,
            &shared.window_scroll,
            &format!("Roll back {} to a version", c.module),
            lines,
            0,
            vec![keys_line("enter plans it · esc cancels".to_string())],
        );
    }
}
