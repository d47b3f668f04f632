//! The end of a wave (a rollout from the confirm window's `w`): what it did, and the question
//! before the next starts. `y` starts it; anything else stops the rollout there. A wave with a
//! failure offers no `y`: the rollout stops, and the same plan again goes on with what is left.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::Reply;
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::rollout::WaveEnd;
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, keys_line};

#[derive(Debug)]
pub struct WaveQuestion {
    end: WaveEnd,
}

impl WaveQuestion {
    pub fn new(end: WaveEnd) -> WaveQuestion {
        WaveQuestion { end }
    }

    pub fn on_key(&self, key: KeyEvent) -> Reply {
        match keys::in_window(Window::Wave, key) {
            Some(Command::Yes) if !self.end.halts() => Reply::NextWave,
            Some(Command::No) => Reply::StopRollout,
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let e = &self.end;
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "wave {} of {}: {} tenant(s), {} step(s) succeeded",
                e.number, e.total, e.tenants, e.succeeded
            ),
            style::header(),
        ))];
        if !e.failed.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("failed: {}", e.failed.join(", ")),
                style::failed(),
            )));
        }
        if let Some(broken) = &e.broken {
            lines.push(Line::from(Span::styled(broken.clone(), style::failed())));
        }
        lines.push(Line::default());
        lines.push(Line::from(if e.halts() {
            Span::styled(
                format!(
                    "the rollout stops here: {} tenant(s) not started; 4 shows the job's log, and the same plan again goes on with what is left",
                    e.left
                ),
                style::failed(),
            )
        } else {
            Span::raw(format!(
                "next: wave {} of {}, {} tenant(s) ({} left in all)",
                e.number + 1,
                e.total,
                e.next,
                e.left
            ))
        }));
        let footer = keys::footer(Window::Wave, |c| c != Command::Yes || !e.halts());
        window::draw(
            frame,
            &shared.window_scroll,
            &format!("Wave {} of {}", e.number, e.total),
            lines,
            0,
            vec![keys_line(footer)],
        );
    }
}
