//! `cpu`: the CPU the probe runs on.

super::helper_builtin!(Cpu, "cpu", IntTy { bits: 32, signed: false }, GET_SMP_PROCESSOR_ID, All);
