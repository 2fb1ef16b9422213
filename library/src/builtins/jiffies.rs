//! `jiffies`: the kernel's tick counter (bpf_jiffies64; bpftrace 0.18+).

super::helper_builtin!(Jiffies, "jiffies", IntTy::U64, JIFFIES64, All);
