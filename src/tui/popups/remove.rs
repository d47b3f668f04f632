//! The removal of a tenant: what it would do, then the slug typed before anything happens
//! (a `y` pressed out of habit removes nothing). A tenant with modules is not removed: `r`
//! plans the rollback of all of them (dependants first), confirmed as any rollback, and the
//! removal is asked again once it ran. `d` drops the database too; by default it is kept.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Edit, Planning, Popup, Reply, edit_with};
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, keys_line};
use crate::tui::worker::{Effect, PlanGroup, PlanRequest, TenantRemoval};
use estate_engine::{Action, Removal, Slug, TenantSelection};

#[derive(Debug)]
pub struct RemoveTenant {
    tenant: TenantRemoval,
    drop_database: bool,
    /// What is typed so far, once `y` asked for the slug.
    typed: Option<String>,
    /// The last slug typed did not match.
    wrong: Option<String>,
}

impl RemoveTenant {
    pub fn new(tenant: TenantRemoval) -> RemoveTenant {
        RemoveTenant {
            tenant,
            drop_database: false,
            typed: None,
            wrong: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        let slug = self.tenant.slug.clone();
        if let Some(typed) = self.typed.as_mut() {
            return match edit_with(typed, key, keys::in_window(Window::Typing, key)) {
                Edit::Submitted if *typed == slug => {
                    shared.ask(Effect::RemoveTenant {
                        slug: slug.clone(),
                        drop_database: self.drop_database,
                    });
                    shared.say(format!("removing tenant {slug}…"));
                    Reply::Close
                }
                Edit::Submitted => {
                    self.wrong = self.typed.replace(String::new());
                    Reply::Stay
                }
                Edit::Dismissed => {
                    self.typed = None;
                    Reply::Stay
                }
                _ => Reply::Stay,
            };
        }
        match keys::in_window(Window::Remove, key) {
            Some(Command::DropDatabase) => {
                self.drop_database = !self.drop_database;
                Reply::Stay
            }
            Some(Command::Rollback) if !self.tenant.modules.is_empty() => {
                let request = PlanRequest {
                    action: Action::Rollback,
                    groups: vec![PlanGroup {
                        modules: self.tenant.modules.clone(),
                        tenants: match Slug::parse(&slug) {
                            Ok(s) => TenantSelection::Only(vec![s]),
                            Err(_) => return Reply::Close,
                        },
                    }],
                    cascade: true,
                    to: None,
                };
                shared.ask(Effect::Plan(request.clone()));
                Reply::Open(Popup::Planning(Planning::new(request)))
            }
            Some(Command::TypeToConfirm) if self.tenant.modules.is_empty() => {
                self.typed = Some(String::new());
                Reply::Stay
            }
            Some(Command::No) => {
                shared.say("removal cancelled: nothing changed");
                Reply::Close
            }
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let t = &self.tenant;
        let mut lines = vec![
            Line::from(vec![
                Span::styled(t.slug.clone(), style::header()),
                Span::raw(format!("  {}", t.name)),
            ]),
            Line::from(format!("database  {}", t.database)),
            Line::default(),
        ];
        let blocked = !t.modules.is_empty();
        if blocked {
            lines.push(Line::from(Span::styled(
                format!(
                    "it still has {}: roll them back first (r)",
                    t.modules.join(", ")
                ),
                style::failed(),
            )));
        } else {
            lines.push(Line::from("it has no modules: it can be unregistered"));
        }
        lines.push(Line::from(if self.drop_database {
            Span::styled(
                "its database will be DROPPED, which cannot be undone (d keeps it)",
                style::failed(),
            )
        } else {
            Span::raw("its database will be kept where it is (d drops it)")
        }));
        if let Some(wrong) = &self.wrong {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                format!("\"{wrong}\" is not the slug: nothing was removed"),
                style::failed(),
            )));
        }
        let footer = match &self.typed {
            Some(typed) => {
                lines.push(Line::default());
                lines.push(Line::from(format!(
                    "type {} to remove it: {typed}█",
                    t.slug
                )));
                "enter removes it if the slug matches · esc cancels".to_string()
            }
            None => keys::footer(Window::Remove, |c| match c {
                Command::Rollback => blocked,
                Command::TypeToConfirm => !blocked,
                _ => true,
            }),
        };
        window::draw(
            frame,
            &shared.window_scroll,
            &format!("Remove tenant {}", t.slug),
            lines,
            0,
            vec![keys_line(footer)],
        );
    }
}

/// What the status line says of a removal done.
pub fn removed(r: &Removal) -> String {
    if r.dropped {
        format!(
            "removed tenant {} (job {}); its database {} was dropped",
            r.tenant, r.job_id, r.database
        )
    } else {
        format!(
            "removed tenant {} (job {}); its database is kept at {}",
            r.tenant, r.job_id, r.database
        )
    }
}
