//! The colour theme, read from `assets/theme.toml` (embedded in the binary), so the CLI and the
//! console colour states the same way and a deployment can change them in one place.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anstyle::{AnsiColor, Color, Style};
use serde::Deserialize;

const THEME: &str = include_str!("../assets/theme.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    styles: BTreeMap<String, RawStyle>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
}

/// The named styles of the theme.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub header: Style,
    pub dim: Style,
    pub installed: Style,
    pub outdated: Style,
    pub failed: Style,
    pub note: Style,
}

fn color(name: &str) -> Option<Color> {
    if let Ok(index) = name.parse::<u8>() {
        return Some(Color::Ansi256(anstyle::Ansi256Color(index)));
    }
    let ansi = match name {
        "black" => AnsiColor::Black,
        "red" => AnsiColor::Red,
        "green" => AnsiColor::Green,
        "yellow" => AnsiColor::Yellow,
        "blue" => AnsiColor::Blue,
        "magenta" => AnsiColor::Magenta,
        "cyan" => AnsiColor::Cyan,
        "white" => AnsiColor::White,
        "bright_black" => AnsiColor::BrightBlack,
        "bright_red" => AnsiColor::BrightRed,
        "bright_green" => AnsiColor::BrightGreen,
        "bright_yellow" => AnsiColor::BrightYellow,
        "bright_blue" => AnsiColor::BrightBlue,
        "bright_magenta" => AnsiColor::BrightMagenta,
        "bright_cyan" => AnsiColor::BrightCyan,
        "bright_white" => AnsiColor::BrightWhite,
        _ => return None,
    };
    Some(Color::Ansi(ansi))
}

impl Theme {
    /// Parses a theme file; unknown colours or keys are errors naming them.
    pub fn parse(text: &str) -> Result<Theme, String> {
        let raw: RawTheme = toml::from_str(text).map_err(|e| e.to_string())?;
        let style = |name: &str| -> Result<Style, String> {
            let Some(r) = raw.styles.get(name) else {
                return Err(format!("the theme has no style {name:?}"));
            };
            let mut s = Style::new();
            if let Some(fg) = &r.fg {
                s =
                    s.fg_color(Some(color(fg).ok_or_else(|| {
                        format!("unknown colour {fg:?} in style {name:?}")
                    })?));
            }
            if r.bold {
                s = s.bold();
            }
            if r.dim {
                s = s.dimmed();
            }
            Ok(s)
        };
        Ok(Theme {
            header: style("header")?,
            dim: style("dim")?,
            installed: style("installed")?,
            outdated: style("outdated")?,
            failed: style("failed")?,
            note: style("note")?,
        })
    }
}

/// The embedded theme.
pub fn theme() -> &'static Theme {
    static THEME_CELL: OnceLock<Theme> = OnceLock::new();
    // The embedded file is checked by a test, so this cannot fail in a released binary.
    THEME_CELL.get_or_init(|| Theme::parse(THEME).unwrap_or_else(|_| fallback()))
}

fn fallback() -> Theme {
    Theme {
        header: Style::new().bold(),
        dim: Style::new().dimmed(),
        installed: Style::new(),
        outdated: Style::new(),
        failed: Style::new().bold(),
        note: Style::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_theme_parses() {
        let t = Theme::parse(THEME).unwrap();
        assert_eq!(
            t.installed.get_fg_color(),
            Some(Color::Ansi(AnsiColor::Green))
        );
    }

    #[test]
    fn bad_colours_are_named() {
        let err = Theme::parse("[styles]\nheader = { fg = \"mauve\" }").unwrap_err();
        assert!(err.contains("mauve"), "{err}");
    }
}
