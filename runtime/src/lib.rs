//! The runtime: loads compiled programs with aya, attaches them, reads their events and maps, and prints
//! them. The `vt` binary (`main.rs`) is a front end over `session::Session`.

pub mod attach;
pub mod child;
pub mod closer;
pub mod output;
pub mod printf;
pub mod repl;
pub mod session;
pub mod signals;
mod sys;
pub mod tracefs;
pub mod vto;
