//! `cat(fmt, ..)` and `system(fmt, ..)`: what the runtime does with their formatted text, as
//! bpftrace 0.17 does it.

use std::process::{Command, Stdio};

/// The whole file named `path`. A file that can't be read is an error on stderr (bpftrace's words),
/// and the run goes on.
pub fn cat(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("ERROR: failed to open file '{path}': {}", os_message(&e));
        Vec::new()
    })
}

/// The standard output of `sh -c command` (bpftrace's popen); its standard error goes to vt's.
pub fn system(command: &str) -> Vec<u8> {
    let out = Command::new("/bin/sh").arg("-c").arg(command).stdin(Stdio::null()).stderr(Stdio::inherit()).output();
    match out {
        Ok(o) => o.stdout,
        Err(e) => {
            eprintln!("ERROR: failed to run '{command}': {}", os_message(&e));
            Vec::new()
        }
    }
}

/// An I/O error as C's strerror words it (std adds " (os error N)").
fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
