//! `pid`: the process id (the kernel's tgid).

super::helper_builtin!(Pid, "pid", IntTy::U64, GET_CURRENT_PID_TGID, High);
