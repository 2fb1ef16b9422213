//! The language, construct by construct, on real tracepoints: each table in tests/conformance/ holds
//! scripts, the `shapes` workload they run against and the exact output they must print (see
//! src/table.rs for the format); entries marked BPFTRACE are also run under bpftrace 0.17 and must print
//! the same. `VT_TABLE_ONLY=NAME` runs one entry.

use vt_tests::table::run_table;

const SHAPES: &str = env!("CARGO_BIN_EXE_shapes");

/// Entries of one table run this many at a time: a run mostly waits (attach, the workload, detach).
const WORKERS: usize = 3;

#[test]
fn builtins() {
    run_table("builtins", "conformance/builtins.test", SHAPES, WORKERS);
}

#[test]
fn fields() {
    run_table("fields", "conformance/fields.test", SHAPES, WORKERS);
}

#[test]
fn statements() {
    run_table("statements", "conformance/statements.test", SHAPES, WORKERS);
}

#[test]
fn maps() {
    run_table("maps", "conformance/maps.test", SHAPES, WORKERS);
}

#[test]
fn printf() {
    run_table("printf", "conformance/printf.test", SHAPES, WORKERS);
}

#[test]
fn probes() {
    run_table("probes", "conformance/probes.test", SHAPES, WORKERS);
}

#[test]
fn errors() {
    run_table("errors", "conformance/errors.test", SHAPES, WORKERS);
}
