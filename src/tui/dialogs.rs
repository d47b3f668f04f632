//! Drawing the windows over a view: the help overlay, plans to confirm, refusals with their
//! `--cascade` alternative, the quit question and details.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::app::{App, Dialog};
use super::command::Command;
use super::detail;
use super::keys::{self, Window};
use super::style;
use super::widgets::window;
use super::worker::PlanRequest;
use estate_engine::TenantSelection;

pub fn draw(frame: &mut Frame, app: &App) {
    if app.help {
        let mut lines: Vec<Line> = keys::help(app.tab)
            .into_iter()
            .map(|(k, what)| {
                Line::from(vec![
                    Span::styled(format!("{k:>25}  "), style::header()),
                    Span::raw(what),
                ])
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!("{:>25}  any key closes this", ""),
            style::dim(),
        )));
        return window::draw(
            frame,
            &app.shared.window_scroll,
            &format!("Keys: {}", app.tab.title()),
            lines,
            0,
            None,
        );
    }
    let Some(dialog) = &app.dialog else { return };
    match dialog {
        Dialog::Planning(request) => window::draw(
            frame,
            &app.shared.window_scroll,
            "Planning",
            vec![
                Line::from(describe(request)),
                Line::default(),
                Line::from(Span::styled(
                    "the registry is checking dependencies and each database…",
                    style::dim(),
                )),
            ],
            0,
            Some(&keys::footer(Window::Planning, |_| true)),
        ),
        Dialog::Confirm { plans, scroll } => {
            let mut lines = Vec::new();
            for (i, p) in plans.iter().enumerate() {
                if i > 0 {
                    lines.push(Line::default());
                }
                lines.extend(detail::plan(p));
            }
            let title = if plans.len() > 1 {
                format!("Confirm {} jobs", plans.len())
            } else {
                "Confirm".to_string()
            };
            window::draw(
                frame,
                &app.shared.window_scroll,
                &title,
                lines,
                *scroll,
                Some(&keys::footer(Window::Confirm, |_| true)),
            )
        }
        Dialog::Refused {
            error,
            cascade,
            scroll,
        } => {
            let mut lines: Vec<Line> = error
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    let st = if i == 0 {
                        style::failed()
                    } else {
                        style::note()
                    };
                    Line::from(Span::styled(l.trim_start().to_string(), st))
                })
                .collect();
            lines.push(Line::from(Span::styled(
                "nothing was changed",
                style::dim(),
            )));
            if let Some(plans) = cascade {
                lines.push(Line::default());
                lines.push(Line::from(Span::styled(
                    "with --cascade, the dependants are rolled back first:",
                    style::header(),
                )));
                for p in plans {
                    lines.extend(detail::plan(p));
                }
            }
            let footer = keys::footer(Window::Refused, |c| {
                c != Command::Cascade || cascade.is_some()
            });
            window::draw(
                frame,
                &app.shared.window_scroll,
                "Refused",
                lines,
                *scroll,
                Some(&footer),
            )
        }
        Dialog::Quit { running } => window::draw(
            frame,
            &app.shared.window_scroll,
            "Quit?",
            vec![
                Line::from(format!("{running} job(s) still running.")),
                Line::from(
                    "Quitting cancels them: each stops at its next migration boundary, \
                     nothing is left half-applied, and the same action later picks up from there.",
                ),
            ],
            0,
            Some(&keys::footer(Window::Quit, |_| true)),
        ),
        Dialog::Detail {
            title,
            lines,
            scroll,
        } => window::draw(
            frame,
            &app.shared.window_scroll,
            title,
            lines.clone(),
            *scroll,
            Some(&keys::footer(Window::Detail, |_| true)),
        ),
    }
}

/// `install digital_card for acme, globex`.
fn describe(request: &PlanRequest) -> String {
    let groups: Vec<String> = request
        .groups
        .iter()
        .map(|g| {
            let tenants = match &g.tenants {
                TenantSelection::All => "every tenant".to_string(),
                TenantSelection::Only(t) if t.len() > 5 => format!("{} tenants", t.len()),
                TenantSelection::Only(t) => t
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("{} for {tenants}", g.modules.join(" "))
        })
        .collect();
    format!(
        "{}{} {}",
        request.action,
        if request.cascade { " --cascade" } else { "" },
        groups.join("; ")
    )
}
