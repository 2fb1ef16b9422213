//! `nsecs`: nanoseconds since boot (`bpf_ktime_get_ns`).

super::helper_builtin!(Nsecs, "nsecs", IntTy::U64, KTIME_GET_NS, All);
