//! The policy bundle this isolate decides with.
//!
//! The embedded bundle is parsed once, on the first request an isolate serves, and kept
//! for the isolate's lifetime; every request then borrows it through an `Rc`, so a later
//! swap (from KV) never changes the bundle under a request in flight.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;

use crate::engine::{embedded, PolicyBundle};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Embedded,
}

pub struct ActivePolicy {
    pub bundle: PolicyBundle,
    pub source: Source,
    /// ISO 8601 time the bundle was loaded into this isolate.
    pub loaded_at: String,
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<ActivePolicy>>> = const { RefCell::new(None) };
}

/// The active policy, loading the embedded bundle on first use. The error is the
/// bundle's load error (which `build.rs` makes impossible for the embedded set).
pub fn active() -> Result<Rc<ActivePolicy>, String> {
    if let Some(active) = ACTIVE.with(|slot| slot.borrow().clone()) {
        return Ok(active);
    }
    let bundle = embedded::load().map_err(|e| e.to_string())?;
    let active = Rc::new(ActivePolicy {
        bundle,
        source: Source::Embedded,
        loaded_at: now_iso(),
    });
    ACTIVE.with(|slot| *slot.borrow_mut() = Some(Rc::clone(&active)));
    Ok(active)
}

pub fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}
