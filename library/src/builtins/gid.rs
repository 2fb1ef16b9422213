//! `gid`: the group id.

super::helper_builtin!(Gid, "gid", IntTy { bits: 32, signed: false }, GET_CURRENT_UID_GID, High);
