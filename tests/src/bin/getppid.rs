//! Workload: waits for a byte on stdin, then makes exactly N getppid syscalls and exits.
fn main() {
    let n = vt_tests::workload_args("getppid N", 1)[0];
    vt_tests::wait_for_release();
    vt_tests::do_getppid(n);
}
