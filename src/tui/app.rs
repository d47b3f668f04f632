//! The console's state and what each key does to it. Drawing reads it; nothing here draws.

use ratatui::crossterm::event::KeyEvent;

use super::data::Snapshot;
use super::keymap::{Command, command};

/// The views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Modules,
    Tenants,
    Matrix,
    Jobs,
    History,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Modules,
        Tab::Tenants,
        Tab::Matrix,
        Tab::Jobs,
        Tab::History,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Modules => "Modules",
            Tab::Tenants => "Tenants",
            Tab::Matrix => "Matrix",
            Tab::Jobs => "Jobs",
            Tab::History => "History",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// How many rows a page key moves.
const PAGE: usize = 10;

pub struct App {
    pub data: Snapshot,
    pub tab: Tab,
    pub read_only: bool,
    /// The selected row of each tab.
    rows: [usize; 5],
    /// The first module column shown in the Matrix, and the selected one.
    pub column: usize,
    pub help: bool,
    pub message: Option<String>,
    pub quit: bool,
    /// Set by a key; the event loop reloads the snapshot.
    pub reload: bool,
}

impl App {
    pub fn new(data: Snapshot, read_only: bool) -> App {
        App {
            data,
            tab: Tab::Modules,
            read_only,
            rows: [0; 5],
            column: 0,
            help: false,
            message: None,
            quit: false,
            reload: false,
        }
    }

    /// Takes a fresh snapshot, keeping the selections inside it.
    pub fn replace(&mut self, data: Snapshot) {
        self.data = data;
        for tab in Tab::ALL {
            let len = self.len(tab);
            let row = &mut self.rows[tab.index()];
            *row = (*row).min(len.saturating_sub(1));
        }
        self.column = self.column.min(self.data.modules.len().saturating_sub(1));
    }

    pub fn say(&mut self, message: impl Into<String>) {
        self.message = Some(message.into());
    }

    pub fn row(&self, tab: Tab) -> usize {
        self.rows[tab.index()]
    }

    /// How many rows a tab lists.
    pub fn len(&self, tab: Tab) -> usize {
        match tab {
            Tab::Modules => self.data.modules.len(),
            Tab::Tenants | Tab::Matrix => self.data.tenants.len(),
            Tab::Jobs => self.data.jobs.len(),
            Tab::History => self.data.history.len(),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        let cmd = command(key);
        if self.help {
            // The overlay takes every key: any of them closes it, q still quits.
            self.help = false;
            self.quit = cmd == Some(Command::Quit);
            return;
        }
        let Some(cmd) = cmd else { return };
        self.message = None;
        let len = self.len(self.tab);
        let last = len.saturating_sub(1);
        let row = &mut self.rows[self.tab.index()];
        match cmd {
            Command::Quit => self.quit = true,
            Command::Help => self.help = true,
            Command::Back => {}
            Command::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Command::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Command::GoTo(tab) => self.tab = tab,
            Command::Down => *row = (*row + 1).min(last),
            Command::Up => *row = row.saturating_sub(1),
            Command::PageDown => *row = (*row + PAGE).min(last),
            Command::PageUp => *row = row.saturating_sub(PAGE),
            Command::Top => *row = 0,
            Command::Bottom => *row = last,
            Command::Right if self.tab == Tab::Matrix => {
                self.column = (self.column + 1).min(self.data.modules.len().saturating_sub(1));
            }
            Command::Left if self.tab == Tab::Matrix => self.column = self.column.saturating_sub(1),
            Command::Left | Command::Right => {}
            Command::Refresh => self.reload = true,
        }
    }
}
