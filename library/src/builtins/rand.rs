//! `rand`: a pseudo-random 32-bit number.

super::helper_builtin!(Rand, "rand", IntTy { bits: 32, signed: false }, GET_PRANDOM_U32, All);
