//! `:watch @m [INTERVAL]`: a map redrawn in place until Ctrl-C.

use super::events::final_text;
use super::Repl;
use crate::output::Format;
use crate::run::{self, Source};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Repl {
    /// Redraws a map in place every interval until Ctrl-C.
    pub(super) fn watch(&self, arg: &str) {
        let mut parts = arg.split_whitespace();
        let Some(map) = parts.next() else {
            return eprintln!("vt: :watch takes a map, e.g. :watch @counts 1s");
        };
        let interval = match parts.next().map(parse_interval) {
            None => Duration::from_secs(1),
            Some(Some(d)) => d,
            Some(None) => return eprintln!("vt: an interval is like 1s, 500ms or 2"),
        };
        if self.dumps(map).is_none() {
            return;
        }
        let signals = [(Source::Signals, self.signals.as_raw_fd())];
        while self.signals.next().is_some() {}
        self.shared.watching.store(true, Ordering::SeqCst);
        let mut lines = 0;
        let mut stdout = std::io::stdout();
        while let Some(d) = self.dumps(map) {
            let text =
                format!("Every {}: {map} (Ctrl-C stops)\n{}", humantime(interval), Format::Text(self.style).maps(&d));
            if lines > 0 {
                let _ = write!(stdout, "\x1b[{lines}F\x1b[J");
            }
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            lines = text.lines().count();
            if run::wait(&signals, Some(interval)).is_ok_and(|ready| !ready.is_empty()) {
                let sig = self.signals.next();
                if sig == Some(libc::SIGTERM as u32) {
                    self.shared.watching.store(false, Ordering::SeqCst);
                    let text = final_text(&self.shared);
                    print!("\n{text}");
                    let _ = stdout.flush();
                    std::process::exit(0);
                }
                break;
            }
        }
        self.shared.watching.store(false, Ordering::SeqCst);
        println!();
        let held = std::mem::take(&mut *self.shared.held.lock().unwrap_or_else(|e| e.into_inner()));
        self.emit(&held);
    }
}

/// `1s`, `500ms`, `2` (seconds), `100us`.
fn parse_interval(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok().filter(|&n| n > 0)?;
    match &s[split..] {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "us" => Some(Duration::from_micros(n)),
        "m" => Some(Duration::from_secs(60 * n)),
        _ => None,
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_interval("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_interval("0"), None);
        assert_eq!(parse_interval("1x"), None);
        assert_eq!(humantime(Duration::from_millis(500)), "500ms");
    }
}
