//! What a key asks for: the words the key map (`keys`) shares with the views and windows that
//! answer it. Which key gives which command is said in `keys` alone; this file only names the
//! commands, so that the views need not import the key map (which names the views, to say
//! where each key works).

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    // The views.
    Quit,
    Help,
    Back,
    Enter,
    NextTab,
    PrevTab,
    /// The view at this place in the tab order.
    GoTo(usize),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Refresh,
    Mark,
    Install,
    Rollback,
    Upgrade,
    Filter,
    Palette,
    Cancel,
    /// Plan a job's failed, skipped and not started steps again.
    Retry,
    TenantFilter,
    Follow,
    Verify,
    Map,
    /// Start a range at the cursor, or mark it to the cursor.
    Range,
    /// The next (previous) row or cell with a ✗ or ↑.
    NextTrouble,
    PrevTrouble,
    /// List the tenants by the state the view sorts on, or by slug again.
    Sort,
    /// Remove the tenant (its slug typed to confirm).
    Remove,
    // The windows.
    /// Run the plans, quit now.
    Yes,
    /// Cancel, close, stay, abandon.
    No,
    /// Plan the refused rollback again with `--cascade`.
    Cascade,
    /// The yes of a plan that needs its modules' names typed: the typing starts.
    TypeToConfirm,
    /// The SQL of the plan's steps, or the plan again.
    Sql,
    /// A removal drops the tenant's database too, or keeps it (again).
    DropDatabase,
    /// A cell's detail: roll its module back to a version typed next.
    ToVersion,
    /// The confirm window: run the plan in waves (again: other waves, then none).
    Waves,
    // The line typed at the bottom (a filter, a command).
    Submit,
    Dismiss,
    Erase,
    /// Tab: complete the word being typed.
    Complete,
}

impl Command {
    /// Whether it changes databases (or marks cells for that): a read-only console refuses
    /// it, and names none of its keys.
    pub fn acts(self) -> bool {
        matches!(
            self,
            Command::Mark
                | Command::Range
                | Command::Install
                | Command::Rollback
                | Command::Upgrade
                | Command::Cancel
                | Command::Retry
                | Command::Remove
        )
    }

    /// Whether it moves a cursor (or scrolls a window).
    pub fn moves(self) -> bool {
        matches!(
            self,
            Command::Up
                | Command::Down
                | Command::PageUp
                | Command::PageDown
                | Command::Top
                | Command::Bottom
        )
    }
}
