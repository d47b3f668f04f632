//! A bordered table over a filtered list, titled with its count and filter, building only the
//! rows that fit: ten thousand tenants cost what one screen costs.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell as TableCell, Paragraph, Row, Table, TableState};

use crate::tui::rows::{Cursor, Filtered};
use crate::tui::style;

/// What a table needs besides its rows.
pub struct Spec<'a> {
    pub title: &'a str,
    /// Said after the count in the title, e.g. which modules are shown.
    pub suffix: String,
    pub empty: &'a str,
    pub header: Vec<TableCell<'static>>,
    /// Lines the header takes.
    pub header_height: u16,
    pub widths: Vec<Constraint>,
    /// Whether the selected row is drawn reversed (the Matrix marks its cell instead).
    pub highlight: bool,
}

/// The list a table shows.
pub struct List<'a> {
    /// Its rows through the filter.
    pub rows: &'a Filtered,
    pub cursor: &'a Cursor,
    /// How many rows there are, filter or not.
    pub total: usize,
    /// Told how many rows fit, for paging.
    pub page: &'a Cell<usize>,
}

/// Draws `list` titled `title (N)`; `row` builds the row of a data index (and whether it is
/// the selected one), called only for the rows on screen.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    list: List,
    spec: Spec,
    row: impl Fn(usize, bool) -> Row<'static>,
) {
    let count = if list.rows.filter.is_empty() {
        format!("{}", list.rows.len())
    } else {
        format!(
            "{} of {} matching \"{}\"",
            list.rows.len(),
            list.total,
            list.rows.filter
        )
    };
    draw_counted(frame, area, list, spec, count, row);
}

/// Draws `list` titled `title (count)`: for a list that is a page of more, which says so.
pub fn draw_counted(
    frame: &mut Frame,
    area: Rect,
    list: List,
    spec: Spec,
    count: String,
    row: impl Fn(usize, bool) -> Row<'static>,
) {
    let List {
        rows,
        cursor,
        total,
        page,
    } = list;
    let height = area.height.saturating_sub(2 + spec.header_height).max(1) as usize;
    let offset = cursor.window(rows.len(), height);
    page.set(height);
    let visible = rows.visible();
    let selected = cursor.row;
    let range = cursor.anchor.map(|a| a.min(selected)..=a.max(selected));
    let shown: Vec<Row> = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(pos, i)| {
            let r = row(*i, pos == selected);
            if range.as_ref().is_some_and(|r| r.contains(&pos)) {
                r.style(style::range())
            } else {
                r
            }
        })
        .collect();
    let mut state =
        TableState::default().with_selected((!visible.is_empty()).then(|| selected - offset));
    let mut table = Table::new(shown, spec.widths)
        .header(
            Row::new(spec.header)
                .height(spec.header_height)
                .style(style::header()),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ({count}{}) ", spec.title, spec.suffix)),
        );
    if spec.highlight {
        table = table.row_highlight_style(style::selected());
    }
    frame.render_stateful_widget(table, area, &mut state);
    if visible.is_empty() {
        let text = if total > 0 {
            "nothing matches the filter: esc clears it"
        } else {
            spec.empty
        };
        let inner = Rect {
            x: area.x + 2,
            y: area.y + 1 + spec.header_height,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        frame.render_widget(Paragraph::new(Span::styled(text, style::dim())), inner);
    }
}

pub fn header(names: &[&str]) -> Vec<TableCell<'static>> {
    names
        .iter()
        .map(|n| TableCell::from(n.to_string()))
        .collect()
}

pub fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_string() } else { s }
}

/// `*` before a marked row, so marks read without colour.
pub fn mark(marked: bool) -> &'static str {
    if marked { "*" } else { " " }
}
