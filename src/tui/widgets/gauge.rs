//! Progress: a text bar for a table cell, and a gauge line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Gauge;

use crate::tui::style;

/// A text progress bar: `█████░░░░░`.
pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// A one-line gauge filled to `ratio`, with `label` over it.
pub fn draw(frame: &mut Frame, area: Rect, ratio: f64, label: String) {
    frame.render_widget(
        Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(label)
            .gauge_style(style::installed()),
        area,
    );
}
