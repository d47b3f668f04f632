//! Shared state between estate's tasks: a mutex whose holder panicked still holds whole data
//! (counts, flags, caches written in one step), so estate reads on rather than panicking too.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, poisoned or not.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
