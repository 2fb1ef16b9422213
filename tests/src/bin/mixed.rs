//! Workload: waits for a byte on stdin, then makes G getppid syscalls and writes 1..=W bytes to /dev/null.
fn main() {
    let a = vt_tests::workload_args("mixed G W", 2);
    let writes = vt_tests::prepare_writes(a[1]);
    vt_tests::wait_for_release();
    vt_tests::do_getppid(a[0]);
    writes();
}
