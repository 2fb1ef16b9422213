//! BEGIN and END: raw tracepoint programs that attach nowhere and run once, when the session says,
//! through BPF_PROG_TEST_RUN.

use super::Error;
use aya::programs::{Program, RawTracePoint, RawTracePointRunOptions, TestRun};

fn program(prog: &mut Program) -> Result<&mut RawTracePoint, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

/// Runs the loaded program once.
pub fn run(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.test_run(RawTracePointRunOptions::new()).map(drop).map_err(Error::Run)
}
