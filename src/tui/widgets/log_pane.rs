//! A job's log pane: the newest lines, followed as they come, or scrolled back when focused;
//! optionally one tenant's lines only; whole and wrapped in a window on `enter`.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::tui::command::Command;
use crate::tui::jobs::{LineKind, LogLine};
use crate::tui::style;

/// Where the pane stands.
#[derive(Debug, Default)]
pub struct LogPane {
    /// Keys scroll the pane rather than the list above it.
    pub focus: bool,
    /// The first line shown; `None` follows the newest line.
    pub scroll: Option<usize>,
    /// Only this tenant's lines.
    pub tenant: Option<String>,
    /// Lines that fit in the pane, as last drawn.
    pub height: Cell<usize>,
}

impl LogPane {
    /// Scrolls over `total` lines as `command` asks; false when it is not the pane's.
    pub fn on_command(&mut self, command: Command, total: usize) -> bool {
        let height = self.height.get().max(1);
        let max_start = total.saturating_sub(height);
        let start = self.scroll.unwrap_or(max_start).min(max_start);
        let to = |s: usize| if s >= max_start { None } else { Some(s) };
        self.scroll = match command {
            Command::Down => to(start + 1),
            Command::Up => Some(start.saturating_sub(1)),
            Command::PageDown => to(start + height),
            Command::PageUp => Some(start.saturating_sub(height)),
            Command::Top => Some(0),
            Command::Bottom | Command::Follow => None,
            Command::Back => {
                self.focus = false;
                return true;
            }
            _ => return false,
        };
        true
    }

    /// The lines from the first one the pane shows on, whole: what `enter` opens in a wrapped,
    /// scrolled window, so a line cut at the pane's edge can be read.
    pub fn whole_from_shown(&self, lines: &[LogLine]) -> Vec<Line<'static>> {
        let height = self.height.get().max(1);
        let max_start = lines.len().saturating_sub(height);
        let start = self.scroll.unwrap_or(max_start).min(max_start);
        lines[start..].iter().map(line).collect()
    }

    /// Only the lines of the tenant the pane is filtered to, if any.
    pub fn keep(&self, lines: Vec<LogLine>) -> Vec<LogLine> {
        match &self.tenant {
            Some(t) => lines
                .into_iter()
                .filter(|l| l.tenant.as_ref() == Some(t))
                .collect(),
            None => lines,
        }
    }

    /// Draws `lines`; with none, says `empty` (or that a job is to be selected).
    pub fn draw(&self, frame: &mut Frame, area: Rect, lines: &[LogLine], empty: Option<&str>) {
        let height = area.height.saturating_sub(2) as usize;
        self.height.set(height);
        let max_start = lines.len().saturating_sub(height);
        let start = self.scroll.unwrap_or(max_start).min(max_start);
        let shown: Vec<Line> = lines.iter().skip(start).take(height).map(line).collect();
        let mode = match self.scroll {
            None => "following".to_string(),
            Some(_) => format!("line {} of {}, G follows", start + 1, lines.len()),
        };
        let tenant = self
            .tenant
            .as_ref()
            .map(|t| format!(", {t} only"))
            .unwrap_or_default();
        let focus = if self.focus {
            "enter reads whole, esc leaves"
        } else {
            "enter scrolls"
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" Log ({mode}{tenant}; {focus}, t tenant) "));
        let block = if self.focus {
            block.border_style(style::header())
        } else {
            block
        };
        let body = if shown.is_empty() {
            vec![Line::from(Span::styled(
                empty.unwrap_or("select a job to see its log").to_string(),
                style::dim(),
            ))]
        } else {
            shown
        };
        frame.render_widget(Paragraph::new(body).block(block), area);
    }
}

/// A log line as the pane and its window show it: when, which tenant, what.
fn line(l: &LogLine) -> Line<'static> {
    let st = match l.kind {
        LineKind::Info => Style::default(),
        LineKind::Ok => style::installed(),
        LineKind::Failed => style::failed(),
        LineKind::Skipped => style::outdated(),
    };
    Line::from(vec![
        Span::styled(format!("{} ", l.clock()), style::dim()),
        Span::styled(
            format!("{:<10} ", l.tenant.as_deref().unwrap_or("")),
            style::dim(),
        ),
        Span::styled(l.text.clone(), st),
    ])
}
