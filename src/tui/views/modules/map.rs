//! The Modules view's map (`m`): the dependency graph drawn as a tree beside the
//! responsibility matrix, which context creates which tables in which scope. The module under
//! the cursor (j/k move it, as in the list) is highlighted in both; cycles and tables claimed
//! by two contexts are flagged.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use crate::tui::data::CatalogMap;
use crate::tui::style;

pub fn draw(frame: &mut Frame, area: Rect, map: &CatalogMap, selected: Option<&str>) {
    // The tree as wide as it draws (within a third of the screen), the tables the rest.
    let widest = map
        .tree
        .iter()
        .map(|(prefix, line)| prefix.chars().count() + line.name.chars().count() + 2)
        .chain(map.cycles.iter().map(|c| cycle_text(c).chars().count()))
        .max()
        .unwrap_or(10) as u16;
    let [graph, tables] = Layout::horizontal([
        // At least 12 columns, never past a third of the screen, whatever its width.
        Constraint::Length((widest + 2).min(area.width / 3).max(12.min(area.width / 3))),
        Constraint::Fill(1),
    ])
    .areas(area);
    draw_graph(frame, map, graph, selected);
    draw_tables(frame, map, tables, selected);
}

fn cycle_text(cycle: &[String]) -> String {
    format!("⚠ cycle: {}", cycle.join(" → "))
}

fn draw_graph(frame: &mut Frame, map: &CatalogMap, area: Rect, selected: Option<&str>) {
    let mut lines: Vec<Line> = map
        .cycles
        .iter()
        .map(|c| Line::from(Span::styled(cycle_text(c), style::failed())))
        .collect();
    let mut at = None;
    for (prefix, line) in &map.tree {
        let name_style = if Some(line.name.as_str()) == selected {
            at.get_or_insert(lines.len());
            style::selected()
        } else if line.repeated {
            style::dim()
        } else {
            style::header()
        };
        let mut spans = vec![
            Span::styled(prefix.clone(), style::dim()),
            Span::styled(line.name.clone(), name_style),
        ];
        if line.repeated {
            spans.push(Span::styled(" ^", style::dim()));
        }
        lines.push(Line::from(spans));
    }
    if map.tree.iter().any(|(_, l)| l.repeated) {
        lines.push(Line::from(Span::styled("^ shown above", style::dim())));
    }
    // Keep the selected context in view.
    let height = area.height.saturating_sub(2) as usize;
    let scroll = at.map_or(0, |at: usize| at.saturating_sub(height.saturating_sub(1)));
    let title = if map.cycles.is_empty() {
        " Graph ".to_string()
    } else {
        format!(" Graph ⚠ {} cycle(s) ", map.cycles.len())
    };
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll as u16, 0))
            .block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn draw_tables(frame: &mut Frame, map: &CatalogMap, area: Rect, selected: Option<&str>) {
    let map = &map.tables;
    let mut rows = Vec::new();
    let mut first_selected = None;
    for o in &map.ownership {
        for t in &o.tables {
            let mine = Some(o.context.as_str()) == selected;
            if mine {
                first_selected.get_or_insert(rows.len());
            }
            let twice = map.claimed_twice(o.scope, &t.name);
            let table = if twice {
                Span::styled(format!("{} ⚠", t.name), style::failed())
            } else {
                Span::raw(t.name.clone())
            };
            // The version and the kind: file names do not fit beside the rest at 80 columns.
            let from = format!(
                "{:04} {}",
                t.version,
                if t.blueprint { "blueprint" } else { "sql" }
            );
            let row = Row::new(vec![
                Cell::from(o.context.clone()),
                Cell::from(o.scope.as_str()),
                Cell::from(table),
                Cell::from(Span::styled(from, style::dim())),
            ]);
            rows.push(if mine {
                row.style(style::selected())
            } else {
                row
            });
        }
    }
    let count: usize = map.ownership.iter().map(|o| o.tables.len()).sum();
    let title = if map.conflicts.is_empty() {
        format!(" Tables ({count}) ")
    } else {
        let names: Vec<String> = map
            .conflicts
            .iter()
            .map(|c| format!("{} ({})", c.table, c.contexts.join(", ")))
            .collect();
        format!(" Tables ({count}) ⚠ claimed twice: {} ", names.join("; "))
    };
    let header = Row::new(["CONTEXT", "SCOPE", "TABLE", "BY"]).style(style::header());
    let width = |w: usize, least: usize| Constraint::Length(w.max(least) as u16);
    let contexts = map
        .ownership
        .iter()
        .map(|o| o.context.chars().count())
        .max();
    let names = map
        .ownership
        .iter()
        .flat_map(|o| &o.tables)
        .map(|t| t.name.chars().count() + 2)
        .max();
    // The version is always shown whole (a timestamp is 14 digits), the kind when there is
    // room; a long table name gives way first.
    let versions = map
        .ownership
        .iter()
        .flat_map(|o| &o.tables)
        .map(|t| format!("{:04}", t.version).len())
        .max()
        .unwrap_or(4);
    let widget = Table::new(
        rows,
        [
            width(contexts.unwrap_or(0), 7),
            width(8, 8),
            width(names.unwrap_or(0), 5),
            Constraint::Min(versions as u16),
        ],
    )
    .header(header)
    .block(Block::default().borders(Borders::ALL).title(title));
    // Scrolled so the selected module's first table shows, without a cursor of its own.
    let mut state = TableState::default();
    if let Some(i) = first_selected {
        *state.offset_mut() = i.saturating_sub(area.height.saturating_sub(4) as usize);
    }
    frame.render_stateful_widget(widget, area, &mut state);
}
