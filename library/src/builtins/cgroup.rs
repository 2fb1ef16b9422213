//! `cgroup`: the cgroup (v2) id of the current task.

super::helper_builtin!(Cgroup, "cgroup", IntTy::U64, GET_CURRENT_CGROUP_ID, All);
