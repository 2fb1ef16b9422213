//! The runtime: loads compiled programs with aya, attaches them, reads their events and maps, and prints
//! them. The `vt` binary's front ends, `cli` and `repl`, share the compile path (`compile`), the run loop
//! (`run`) and the output formats (`output`) over a kernel `session`, which attaches programs by kernel
//! program type (`attach`).

pub mod attach;
pub mod cgroup;
pub mod child;
pub mod cli;
pub mod closer;
pub mod compile;
pub mod list;
pub mod metrics;
pub mod output;
pub mod printf;
pub mod repl;
pub mod run;
pub mod session;
pub mod signals;
pub mod symbols;
mod sys;
pub mod tracefs;
pub mod vto;
