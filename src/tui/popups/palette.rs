//! The `:` command line: what an operator types, parsed against the catalog and the tenants
//! when enter is pressed. A command the line cannot read is said, and nothing happens.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::{Edit, Reply, edit};
use crate::tui::shared::Shared;
use crate::tui::views::Tab;
use crate::tui::widgets::status_line;
use estate_engine::Slug;
use estate_engine::{Action, TenantSelection};

/// The line being typed.
#[derive(Debug, Default)]
pub struct CommandLine {
    text: String,
}

impl CommandLine {
    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        match edit(&mut self.text, key) {
            Edit::Changed | Edit::Ignored => Reply::Stay,
            Edit::Emptied | Edit::Dismissed => Reply::Close,
            Edit::Submitted => {
                let data = &shared.data;
                match parse(
                    &self.text,
                    |m| data.module_index(m).is_some(),
                    |t| data.tenant_index(t).is_some(),
                ) {
                    Ok(command) => Reply::Command(command),
                    Err(e) => {
                        shared.warn(e);
                        Reply::Close
                    }
                }
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        status_line::input(frame, area, ":", &self.text);
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteCommand {
    Act {
        action: Action,
        modules: Vec<String>,
        tenants: TenantSelection,
        cascade: bool,
    },
    /// Select a tenant in the Matrix.
    Tenant(String),
    /// Select a module in the Modules view.
    Module(String),
    /// The History view filtered to this text.
    History(String),
    View(Tab),
    Cancel,
    Reload,
    Verify,
    Help,
    Quit {
        force: bool,
    },
}

/// The commands, for the error message of an unknown one.
pub const COMMANDS: &str =
    "install, rollback, upgrade, tenant, module, history, cancel, reload, verify, help, q";

/// Parses `line` (without the `:`), knowing the module names and tenant slugs.
pub fn parse(
    line: &str,
    is_module: impl Fn(&str) -> bool,
    is_tenant: impl Fn(&str) -> bool,
) -> Result<PaletteCommand, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Err(format!("type a command: {COMMANDS}"));
    };
    let one = |what: &str| -> Result<String, String> {
        match args {
            [x] => Ok(x.to_string()),
            _ => Err(format!(":{verb} takes one {what}")),
        }
    };
    Ok(match verb {
        "install" | "i" | "rollback" | "r" | "upgrade" | "u" | "migrate" => {
            let action = match verb {
                "install" | "i" => Action::Install,
                "rollback" | "r" => Action::Rollback,
                _ => Action::Upgrade,
            };
            let (mut modules, mut tenants, mut all, mut cascade) =
                (Vec::new(), Vec::new(), false, false);
            for a in args {
                match *a {
                    "--cascade" | "cascade" if action == Action::Rollback => cascade = true,
                    "--cascade" | "cascade" => {
                        return Err(format!("--cascade only applies to :rollback, not :{verb}"));
                    }
                    "--all" | "all" => all = true,
                    m if is_module(m) => modules.push(m.to_string()),
                    t if is_tenant(t) => tenants.push(Slug::parse(t).map_err(|e| e.to_string())?),
                    other => {
                        return Err(format!(
                            "{other} is neither a module nor a tenant: the Modules (1) and Tenants (2) views list them"
                        ));
                    }
                }
            }
            if modules.is_empty() {
                return Err(format!(
                    ":{verb} needs a module, e.g. :{verb} calendar acme"
                ));
            }
            let tenants = match (all, tenants.is_empty()) {
                (true, true) => TenantSelection::All,
                (false, false) => TenantSelection::Only(tenants),
                (true, false) => return Err("name tenants or say all, not both".to_string()),
                (false, true) => {
                    return Err(format!(
                        ":{verb} needs tenants (or all), e.g. :{verb} {} acme",
                        modules[0]
                    ));
                }
            };
            PaletteCommand::Act {
                action,
                modules,
                tenants,
                cascade,
            }
        }
        "tenant" | "t" => {
            let t = one("tenant slug")?;
            if !is_tenant(&t) {
                return Err(format!("no tenant {t}: the Tenants view (2) lists them"));
            }
            PaletteCommand::Tenant(t)
        }
        "module" | "m" => {
            let m = one("module name")?;
            if !is_module(&m) {
                return Err(format!("no module {m}: the Modules view (1) lists them"));
            }
            PaletteCommand::Module(m)
        }
        "history" | "h" => PaletteCommand::History(args.join(" ")),
        "modules" => PaletteCommand::View(Tab::Modules),
        "tenants" => PaletteCommand::View(Tab::Tenants),
        "matrix" => PaletteCommand::View(Tab::Matrix),
        "jobs" => PaletteCommand::View(Tab::Jobs),
        "cancel" => PaletteCommand::Cancel,
        "reload" => PaletteCommand::Reload,
        "verify" | "v" => PaletteCommand::Verify,
        "help" => PaletteCommand::Help,
        "q" | "quit" => PaletteCommand::Quit { force: false },
        "q!" | "quit!" => PaletteCommand::Quit { force: true },
        other => {
            return Err(format!(
                "unknown command :{other}; the commands are {COMMANDS}"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<PaletteCommand, String> {
        parse(
            line,
            |m| ["calendar", "digital_card"].contains(&m),
            |t| ["acme", "globex"].contains(&t),
        )
    }

    #[test]
    fn commands() {
        assert_eq!(
            p("install digital_card acme"),
            Ok(PaletteCommand::Act {
                action: Action::Install,
                modules: vec!["digital_card".into()],
                tenants: TenantSelection::Only(vec![Slug::parse("acme").unwrap()]),
                cascade: false,
            })
        );
        assert!(matches!(
            p("rollback calendar all --cascade"),
            Ok(PaletteCommand::Act {
                cascade: true,
                tenants: TenantSelection::All,
                ..
            })
        ));
        assert_eq!(
            p("tenant globex"),
            Ok(PaletteCommand::Tenant("globex".into()))
        );
        assert_eq!(p("q"), Ok(PaletteCommand::Quit { force: false }));
        assert!(p("install calendar").unwrap_err().contains("needs tenants"));
        assert!(
            p("install nope acme")
                .unwrap_err()
                .contains("nope is neither")
        );
        assert!(p("frobnicate").unwrap_err().contains("unknown command"));
        assert!(p("tenant nobody").unwrap_err().contains("no tenant nobody"));
    }
}
