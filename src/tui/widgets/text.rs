//! Small pieces of styled text the details and windows share: a heading, a field, a module's
//! state, a history row as one line, a time as operators compare them.

use ratatui::text::{Line, Span};

use crate::tui::style;
use estate_engine::{HistoryEntry, ModuleState};

pub fn heading(text: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(text.into(), style::header()))
}

pub fn dim(text: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(text.into(), style::dim()))
}

/// `      name  value`, the names right-aligned.
pub fn field(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:>12}  "), style::dim()),
        Span::raw(value.into()),
    ])
}

/// `a, b, c`, or `-` for none.
pub fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

pub fn state_span(state: ModuleState, pending: u32) -> Span<'static> {
    match state {
        ModuleState::Installed => Span::styled("✓ installed", style::installed()),
        ModuleState::Outdated => Span::styled(format!("↑ {pending} pending"), style::outdated()),
        ModuleState::Failed => Span::styled("✗ failed", style::failed()),
        ModuleState::NotInstalled => Span::styled("· not installed", style::dim()),
        ModuleState::Unreachable => Span::styled("⚠ unreachable", style::failed()),
    }
}

/// A history row as one line.
pub fn history_line(h: &HistoryEntry) -> Line<'static> {
    let (mark, st) = if h.outcome == "succeeded" {
        ("✓", style::installed())
    } else {
        ("✗", style::failed())
    };
    Line::from(vec![
        Span::styled(format!("{mark} "), st),
        Span::raw(format!(
            "{}  {} {} ({}) {} ms  by {}",
            short_time(&h.started_at),
            h.action,
            h.module_name(),
            h.scope,
            h.duration_ms,
            h.operator
        )),
    ])
}

/// `2026-11-25T15:33:41.740Z` as `11-25 15:33:41` (UTC): the date and the second are what an
/// operator compares; the year and milliseconds only take width.
pub fn short_time(t: &str) -> String {
    t.get(5..19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| t.to_string())
}
