//! Drawing pieces the views and windows share. A widget reads only what it is handed (no
//! view, window or console state), so any view can use it and none depends on another.

pub mod gauge;
pub mod grid;
pub mod log_pane;
pub mod status_line;
pub mod table;
pub mod text;
pub mod window;
