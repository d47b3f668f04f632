//! A window over the view: centred, bordered, its text wrapped and scrolled, a footer of keys.
//! It grows to fit its text up to the screen; the footer (keys, a line typed) stays in view.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::command::Command;
use crate::tui::style;

/// Draws `lines` from `scroll` on, under `title`, with `footer` (the window's keys, and what
/// is typed in it) last; `scroll_max` learns how far the text can scroll.
pub fn draw(
    frame: &mut Frame,
    scroll_max: &Cell<usize>,
    title: &str,
    lines: Vec<Line>,
    scroll: usize,
    mut footer: Vec<Line>,
) {
    let area = frame.area();
    let width = area
        .width
        .saturating_sub(4)
        .min(100)
        .max(area.width.min(20));
    let text_width = width.saturating_sub(2);
    let body = Paragraph::new(lines).wrap(Wrap { trim: false });
    let wrapped = body.line_count(text_width) as u16;
    let below = footer.len() as u16;
    let chrome = 2 + below;
    let height = (wrapped + chrome)
        .min(area.height.saturating_sub(2))
        .max(chrome + 1);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style::header())
        .title(format!(" {title} "));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let body_height = inner.height.saturating_sub(below);
    let max_scroll = wrapped.saturating_sub(body_height);
    scroll_max.set(max_scroll as usize);
    let scroll = (scroll as u16).min(max_scroll);
    frame.render_widget(
        body.scroll((scroll, 0)),
        Rect {
            height: body_height,
            ..inner
        },
    );
    if scroll < max_scroll
        && let Some(last) = footer.last_mut()
    {
        last.push_span(Span::styled(" · more below", style::dim()));
    }
    frame.render_widget(
        Paragraph::new(footer),
        Rect {
            y: inner.y + body_height,
            height: below.min(inner.height),
            ..inner
        },
    );
}

/// A footer line of keys (`keys::footer`), as windows show it.
pub fn keys_line(text: String) -> Line<'static> {
    Line::from(Span::styled(text, style::dim()))
}

/// Moves `scroll` as a moving command asks, within `max`; a page is ten lines.
pub fn scroll_by(scroll: &mut usize, command: Option<Command>, max: usize) {
    *scroll = match command {
        Some(Command::Down) => *scroll + 1,
        Some(Command::Up) => scroll.saturating_sub(1),
        Some(Command::PageDown) => *scroll + 10,
        Some(Command::PageUp) => scroll.saturating_sub(10),
        Some(Command::Top) => 0,
        Some(Command::Bottom) => max,
        _ => *scroll,
    }
    .min(max);
}
