//! `vt completions SHELL` and `vt man`, both generated from the clap definition.

use vt_testkit::*;


#[test]
fn completions_for_each_shell_know_the_flags_and_subcommands() {
    let bash = vt_stdout(&["completions", "bash"]);
    assert!(bash.contains("_vt()"), "{bash}");
    for word in ["build", "completions", "man", "repl", "-p", "-c", "-o", "-q", "-f", "--hist-style"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let zsh = vt_stdout(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef vt"), "{zsh}");
    let fish = vt_stdout(&["completions", "fish"]);
    assert!(fish.contains("complete -c vt"), "{fish}");
    assert!(vt_stdout(&["completions", "elvish"]).contains("vt"));
    let bad = run_with_deadline({
        let mut c = vt();
        c.args(["completions", "tcsh"]);
        c
    }, 60);
    assert_eq!(bad.status.code(), Some(1), "a usage error");
}

#[test]
fn man_page_is_roff_with_every_option() {
    let man = vt_stdout(&["man"]);
    assert!(man.contains(".TH vt 1"), "{man}");
    for opt in ["\\-p", "\\-c", "\\-o", "\\-q", "\\-f", "json", "\\-\\-tracefs", "build"] {
        assert!(man.contains(opt), "man page lacks {opt}");
    }
}

#[test]
fn help_and_version() {
    let help = vt_stdout(&["--help"]);
    for line in ["-p <PID>", "-c <CMD>", "-o <FILE>", "-f <FORMAT>", "build", "completions", "man"] {
        assert!(help.contains(line), "--help lacks {line}");
    }
    assert!(vt_stdout(&["--version"]).starts_with("vt "));
    // -c and -p together are a usage error, as in bpftrace.
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-c", "true", "-p", "1", "-e", "BEGIN {}"]);
        c
    }, 60);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
