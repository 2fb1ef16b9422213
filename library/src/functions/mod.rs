//! Functions that yield a value: one file each.

pub mod bswap;
pub mod buf;
pub mod cgroup_path;
pub mod getopt;
pub mod has_key;
pub mod kptr;
pub mod kaddr;
pub mod kstack;
pub mod ksym;
pub mod ntop;
pub mod offsetof;
pub mod pton;
pub mod r#override;
pub mod reg;
pub mod signal;
pub mod sizeof;
pub mod str;
pub mod strcontains;
pub mod strerror;
pub mod strftime;
pub mod strncmp;
pub mod syscall_name;
pub mod uptr;
pub mod uaddr;
pub mod ustack;
pub mod usym;

/// The registered entries: one line per file of this folder.
pub static LIST: &[&dyn FunctionEntry] = &[
    &str::Str,
    &has_key::HasKey,
    &bswap::Bswap,
    &strncmp::Strncmp,
    &strcontains::Strcontains,
    &strftime::Strftime,
    &strerror::Strerror,
    &ntop::Ntop,
    &sizeof::Sizeof,
    &offsetof::Offsetof,
    &uptr::Uptr,
    &kptr::Kptr,
    &kaddr::Kaddr,
    &uaddr::Uaddr,
    &r#override::Override,
    &reg::Reg,
    &signal::Signal,
    &buf::Buffer,
    &cgroup_path::CgroupPath,
    &kstack::Kstack,
    &ustack::Ustack,
    &ksym::Ksym,
    &usym::Usym,
    &getopt::Getopt,
    &pton::Pton,
    &syscall_name::SyscallName,
];

use codegen::registry::EmitFunction;
use lang::registry::Function;

/// A function with both sides: the checker's and the emitter's.
pub trait FunctionEntry: Function + EmitFunction {}
impl<T: Function + EmitFunction> FunctionEntry for T {}
