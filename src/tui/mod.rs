//! The browser: type or paste an offer, see its pictures, preview them, read the HTML.
//!
//! Laid out as state ([`state`]), actions and effects ([`action`]), a pure [`update`], a pure
//! [`view`], and the [`runtime`] that owns the terminal and runs effects off the UI task. The
//! library's other modules never depend on this one.

pub mod action;
pub mod headless;
pub mod html_panel;
pub mod keys;
pub mod layout;
pub mod preview;
pub mod runtime;
pub mod state;
pub mod terminal;
pub mod update;
pub mod view;

pub use runtime::{run, Ended, Options, Services};
pub use state::App;
pub use update::update;
pub use view::view;
