//! The one workload program of the tests: `shapes [--now] ACTION [+ ACTION]…` (the actions are in
//! `testkit/src/actions.rs`). It parses and prepares its actions, then blocks until a byte arrives on
//! its stdin (the harness's release; it exits with status 3, doing nothing, if stdin closes first),
//! then does exactly those actions and nothing else. With `--now` it does not wait (for `vt -c`).

fn main() {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let now = words.first().is_some_and(|w| w == "--now");
    if now {
        words.remove(0);
    }
    let actions = vt_testkit::actions::parse_all(&words);
    if !now {
        vt_testkit::wait_for_release();
    }
    for a in actions {
        vt_testkit::actions::run(a);
    }
}
