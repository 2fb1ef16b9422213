//! `curtask`: the current task's `struct task_struct` address.

super::helper_builtin!(Curtask, "curtask", IntTy::U64, GET_CURRENT_TASK, All);
