//! descview: browse the description pictures of 1688 offers in the terminal.
//!
//! The library holds everything but the command line: parsing offer IDs ([`item_id`]), the
//! TMAPI client ([`tmapi`]), turning a description into its pictures ([`description`]),
//! fetching and decoding pictures ([`media`]), the browser ([`tui`]), the clipboard
//! ([`clipboard`]) and the local stand-in for the API ([`mock`]). The TUI depends on the rest;
//! nothing else depends on the TUI.
#![forbid(unsafe_code)]

pub mod cache;
pub mod clipboard;
pub mod config;
pub mod description;
pub mod doctor;
pub mod download;
pub mod html_format;
pub mod item_id;
pub mod logging;
pub mod login;
pub mod media;
pub mod mock;
pub mod output;
pub mod session;
pub mod store;
pub mod text;
pub mod tmapi;
pub mod tui;
