//! `numaid`: the NUMA node the probe runs on.

super::helper_builtin!(Numaid, "numaid", IntTy { bits: 32, signed: false }, GET_NUMA_NODE_ID, All);
