//! `uid`: the user id.

super::helper_builtin!(Uid, "uid", IntTy { bits: 32, signed: false }, GET_CURRENT_UID_GID, Low);
