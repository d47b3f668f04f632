//! The bottom line: the console's state and its last message (or the reminder of the main
//! keys), or the line being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::tui::style;

/// How a message reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Error,
}

/// What the status line says.
pub struct Status<'a> {
    pub read_only: bool,
    /// Jobs queued or running.
    pub running: usize,
    /// Quitting once those jobs stop.
    pub quitting: bool,
    pub marked: usize,
    /// Problems in the contexts.
    pub problems: usize,
    pub message: Option<(&'a str, Tone)>,
    /// Shown when there is no message.
    pub reminder: &'a str,
}

/// The rows the status line needs at `width`: two when a message does not fit on one (an
/// answer to bad input names the fix, which must not be cut off), else one.
pub fn height(status: &Status, width: u16) -> u16 {
    let (line, message) = line(status);
    if message {
        (Paragraph::new(line)
            .wrap(Wrap { trim: true })
            .line_count(width) as u16)
            .clamp(1, 2)
    } else {
        1
    }
}

pub fn draw(frame: &mut Frame, area: Rect, status: Status) {
    let (line, message) = line(&status);
    let paragraph = Paragraph::new(line);
    let paragraph = if message {
        paragraph.wrap(Wrap { trim: true })
    } else {
        paragraph
    };
    frame.render_widget(paragraph, area);
}

/// The line, and whether it carries a message (rather than the reminder of the keys).
fn line(status: &Status) -> (Line<'static>, bool) {
    let mut spans = Vec::new();
    if status.read_only {
        spans.push(Span::styled(" READ-ONLY ", style::selected()));
        spans.push(Span::raw(" "));
    }
    let running = status.running;
    if status.quitting {
        spans.push(Span::styled(
            format!("quitting once {running} job(s) stop at a migration boundary  "),
            style::failed(),
        ));
    } else if running > 0 {
        spans.push(Span::styled(
            format!("{running} job(s) running  "),
            style::outdated(),
        ));
    }
    if status.marked > 0 {
        spans.push(Span::styled(
            format!("{} marked  ", status.marked),
            style::header(),
        ));
    }
    if status.problems > 0 {
        spans.push(Span::styled(
            format!("{} problem(s) in contexts: estate check  ", status.problems),
            style::failed(),
        ));
    }
    match status.message {
        Some((m, Tone::Info)) => spans.push(Span::styled(m.to_string(), style::note())),
        Some((m, Tone::Error)) => spans.push(Span::styled(m.to_string(), style::failed())),
        None => spans.push(Span::styled(status.reminder.to_string(), style::dim())),
    }
    (Line::from(spans), status.message.is_some())
}

/// The line being typed after its prompt (`/`, `:`), with a block for the cursor, and `note`
/// on the line above it, over the view's border (what is wrong with it, the completions of a
/// word): the whole width, however long the line typed.
pub fn input(
    frame: &mut Frame,
    area: Rect,
    prompt: &'static str,
    text: &str,
    note: Option<Span<'static>>,
) {
    let line = Line::from(vec![
        Span::styled(prompt, style::header()),
        Span::raw(text.to_string()),
        Span::styled("█", style::dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if let Some(note) = note
        && area.y > 0
    {
        let above = Rect {
            y: area.y - 1,
            ..area
        };
        frame.render_widget(Clear, above);
        frame.render_widget(Paragraph::new(Line::from(note)), above);
    }
}
