//! vt's one test kit: everything the tests of the workspace share.
//!
//! - [`runner`]: finding (and building) `vt` and the workload program, running vt;
//! - [`ready`]: can this machine run the test? and the loud skip (`VT_TESTS_REQUIRE_BPF=1` fails it);
//! - [`deadline`]: bounded waits for children; [`capture`]: their output, waited on;
//! - [`workload`] and [`actions`]: the one workload program, started paused, of known shape;
//! - [`tracer`]: vt and bpftrace on a script against a workload, readiness from the tracer's attached
//!   perf events; [`expect`]: bpftrace's output computed independently;
//! - [`inventory`]: the one BPF object inventory (fdinfo of a process, bpftool for the kernel, leaks);
//! - [`table`]: table-driven conformance tests (`testkit/conformance/*.test`);
//! - [`golden`]: goldens with the one bless switch, `VT_BLESS=1`;
//! - [`fixtures`]: the one saved-tracefs tree, `testkit/fixtures/tracefs`;
//! - [`prop_gen`]: property-test generators of scripts; [`rng`]: a seeded generator.
//!
//! This crate depends on no crate of the workspace (lang dev-depends on it). See testkit/README.md.

pub mod actions;
pub mod capture;
pub mod deadline;
pub mod expect;
pub mod fixtures;
pub mod golden;
pub mod inventory;
pub mod program;
pub mod prop_gen;
pub mod ready;
pub mod rng;
pub mod runner;
pub mod table;
pub mod tracer;
pub mod workload;

pub use capture::{Capture, Running};
pub use deadline::{run_with_deadline, wait_exit, wait_output, ATTACH_TIMEOUT, EXIT_TIMEOUT};
pub use inventory::{
    all_pids, attached_tracepoints, bpf_objects, bpftool_list, held_objects, kernel_objects, leaked_since, vt_objects,
    BpfObjects, Obj,
};
pub use ready::{bpf_available, bpf_ready, bpftool_or_skip, bpftrace_or_skip, can_trace, skip, skip_without_bpf, tracefs_ready, TRACEFS};
pub use rng::Rng;
pub use runner::{code, kit_dir, on_path, run_vt, text, vt, vt_bin, vt_command, vt_stdout, workload_bin, workspace_root};
pub use tracer::{maps_part, script_tracepoints, trace, trace_with, vt_trace, Run, Stop, Tool, Tracer};
pub use workload::{wait_for_release, workload_comm, workload_line, Workload};
