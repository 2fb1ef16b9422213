//! Workload: waits for a byte on stdin, then writes 1, 2, …, N bytes to /dev/null (one write(2) each).
fn main() {
    let n = vt_tests::workload_args("writes N", 1)[0];
    let writes = vt_tests::prepare_writes(n);
    vt_tests::wait_for_release();
    writes();
}
