//! `tid`: the thread id (the kernel's pid).

super::helper_builtin!(Tid, "tid", IntTy::U64, GET_CURRENT_PID_TGID, Low);
