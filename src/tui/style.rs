//! The shared theme (`assets/theme.toml`) as ratatui styles: 256 colours at most, never
//! truecolor, so it reads the same over any SSH session.

use anstyle::{Color as AColor, Effects};
use ratatui::style::{Color, Modifier, Style};

use crate::theme::theme;

fn convert(s: anstyle::Style) -> Style {
    let mut out = Style::default();
    if let Some(fg) = s.get_fg_color() {
        out = out.fg(match fg {
            AColor::Ansi(a) => Color::Indexed(a as u8),
            AColor::Ansi256(i) => Color::Indexed(i.0),
            AColor::Rgb(_) => Color::Reset,
        });
    }
    let effects = s.get_effects();
    if effects.contains(Effects::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if effects.contains(Effects::DIMMED) {
        out = out.add_modifier(Modifier::DIM);
    }
    out
}

pub fn header() -> Style {
    convert(theme().header)
}

pub fn dim() -> Style {
    convert(theme().dim)
}

pub fn installed() -> Style {
    convert(theme().installed)
}

pub fn outdated() -> Style {
    convert(theme().outdated)
}

pub fn failed() -> Style {
    convert(theme().failed)
}

pub fn note() -> Style {
    convert(theme().note)
}

/// The selected row: reversed, so it shows without colour too.
pub fn selected() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

/// The rows of a range being marked (shift-v): underlined, so it shows without colour too.
pub fn range() -> Style {
    Style::default().add_modifier(Modifier::UNDERLINED)
}
