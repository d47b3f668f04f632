//! The bindings read back: dispatch, help, hints and footers agree with the declarations.

use super::*;

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

#[test]
fn keys_give_their_commands_where_they_are_bound() {
    let none = KeyModifiers::NONE;
    let ctrl = KeyModifiers::CONTROL;
    assert_eq!(in_views(press(KeyCode::Char('j'), none)), Some(Down));
    assert_eq!(in_views(press(KeyCode::Char('d'), ctrl)), Some(PageDown));
    assert_eq!(in_views(press(KeyCode::Char('j'), ctrl)), None);
    assert_eq!(in_views(press(KeyCode::Char('3'), none)), Some(GoTo(2)));
    // In the quit question q quits, ctrl-q stays.
    assert_eq!(
        in_window(Window::Quit, press(KeyCode::Char('q'), none)),
        Some(Yes)
    );
    assert_eq!(
        in_window(Window::Quit, press(KeyCode::Char('q'), ctrl)),
        Some(No)
    );
    // Windows that scroll take the moving keys; the others do not.
    assert_eq!(
        in_window(Window::Detail, press(KeyCode::Char('G'), none)),
        Some(Bottom)
    );
    assert_eq!(
        in_window(Window::Quit, press(KeyCode::Char('j'), none)),
        None
    );
    assert_eq!(in_line(press(KeyCode::Char('q'), none)), None);
}

#[test]
fn hints_are_made_from_the_bindings() {
    assert_eq!(
        reminder(false),
        "? help  space mark  i/r/u act  / filter  : command  q quit"
    );
    assert_eq!(reminder(true), "? help  / filter  : command  q quit");
    assert!(help(Tab::Matrix, true).iter().all(|(k, _)| *k != "i r u"));
    assert!(help(Tab::Matrix, false).iter().any(|(k, _)| *k == "i r u"));
    assert_eq!(
        footer(Window::Confirm, |c| c != TypeToConfirm),
        "y run it · s SQL/plan · w waves · n/esc/enter cancel · j/k scroll"
    );
    assert_eq!(
        footer(Window::Typing, |_| true),
        "enter runs it if the names match · esc cancels"
    );
    assert_eq!(
        footer(Window::Refused, |c| c != Cascade),
        "esc close · j/k scroll"
    );
    assert_eq!(
        footer(Window::Quit, |_| true),
        "y/q cancel the jobs and quit · n/esc stay"
    );
}
