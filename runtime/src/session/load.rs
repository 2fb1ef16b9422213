//! Making a session: the maps created and every program loaded through the verifier.

use super::{chain, Error, Session};
use crate::attach;
use aya::maps::RingBuf;
use aya::EbpfLoader;
use codegen::Object;

/// Whether the kernel said EPERM somewhere in the error's chain (no root, no CAP_BPF).
fn not_permitted(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut src = Some(e);
    while let Some(inner) = src {
        if inner.downcast_ref::<std::io::Error>().and_then(|io| io.raw_os_error()) == Some(libc::EPERM) {
            return true;
        }
        src = inner.source();
    }
    false
}

/// An aya loader that has not read the kernel's BTF. aya 0.14's `EbpfLoader::new()` always parses
/// /sys/kernel/btf/vmlinux (15–25 ms and some 19 MB of heap here), for relocations that vt's programs
/// never need: they carry no BTF. So the loader is made in a thread of its own whose root directory is
/// /sys/kernel/btf itself: from there the absolute path resolves to nothing, aya finds no BTF and goes
/// on without it. (Where the thread cannot change its root, the loader simply reads the BTF.)
fn loader_without_btf() -> EbpfLoader<'static> {
    std::thread::spawn(|| {
        let root = c"/sys/kernel/btf";
        // SAFETY: unshare(CLONE_FS) gives this thread its own root and working directory, so the
        // chroot changes them for this thread alone; the path is NUL-terminated.
        unsafe {
            if libc::unshare(libc::CLONE_FS) == 0 {
                libc::chroot(root.as_ptr());
            }
        }
        EbpfLoader::new()
    })
    .join()
    .unwrap_or_else(|_| EbpfLoader::new())
}

impl Session {
    /// Creates the maps and loads every program through the verifier; attaches nothing.
    pub fn load(object: Object) -> Result<Session, Error> {
        let bytes = codegen::elf::write(&object).map_err(|e| Error::Load(e.to_string()))?;
        // aya reads instructions in place: give it an 8-byte aligned copy.
        let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: the u64 buffer is at least bytes.len() bytes long and u8 has no alignment needs.
        let view = unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr() as *mut u8, bytes.len()) };
        view.copy_from_slice(&bytes);
        let mut ebpf = loader_without_btf().load(view).map_err(|e| match not_permitted(&e) {
            true => Error::Permission(chain(&e)),
            false => Error::Load(chain(&e)),
        })?;
        let mut tracing: Vec<Option<std::os::fd::OwnedFd>> = object.programs.iter().map(|_| None).collect();
        for (i, p) in object.programs.iter().enumerate() {
            if let lang::typed::Target::Fentry(f) = &p.attach.target {
                let map_fd = |m: usize| map_fd(&ebpf, &object, m);
                tracing[i] = Some(attach::fentry::load(&p.code, &p.symbol, f, &map_fd).map_err(|e| match e {
                    attach::Error::Verifier { reason, log } => Error::Verify { probe: p.attach.probe_name(), span: p.span, reason, log },
                    other => Error::Load(chain(&other)),
                })?);
                continue;
            }
            if let lang::typed::Target::Kprobe(k) = &p.attach.target {
                if !k.multi.is_empty() {
                    let map_fd = |m: usize| map_fd(&ebpf, &object, m);
                    tracing[i] = Some(attach::kprobe_multi::load(&p.code, &p.symbol, &map_fd).map_err(|e| match e {
                        attach::Error::Verifier { reason, log } => Error::Verify { probe: p.attach.probe_name(), span: p.span, reason, log },
                        other => Error::Load(chain(&other)),
                    })?);
                    continue;
                }
            }
            let prog = ebpf.program_mut(&p.symbol).ok_or_else(|| Error::Load(format!("program {} missing", p.symbol)))?;
            // override(): refused with the kernel's reason before the verifier or the attach says less.
            if let lang::typed::Target::Kprobe(k) = &p.attach.target {
                if p.code.calls(codegen::asm::helper::OVERRIDE_RETURN) {
                    attach::error_injection::check(k).map_err(|reason| Error::Attach { probe: p.attach.probe_name(), reason })?;
                }
            }
            match attach::load(prog, &attach::target(&p.attach)) {
                Ok(()) => {}
                Err(attach::Error::Load(e)) => return Err(verify_error(p.attach.probe_name(), p.span, e)),
                Err(e) => return Err(Error::Load(chain(&e))),
            }
        }
        let ring = &object.maps[object.internal.events].symbol;
        let map = ebpf.take_map(ring).ok_or_else(|| Error::Load("ring buffer missing".into()))?;
        let events = RingBuf::try_from(map).map_err(|e| Error::Load(chain(&e)))?;
        let ncpus = aya::util::nr_cpus().map_err(|(what, e)| Error::Load(format!("{what}: {e}")))?;
        let links = object.programs.iter().map(|_| None).collect();
        let zeroed = vec![false; object.user_maps.len()];
        let session =
            Session { ebpf, object, events, ncpus, exit_requested: false, exit_code: 0, ending: false, links, tracing, watches: Vec::new(), zeroed, symbols: Default::default() };
        session.set_start(super::internal::ktime_ns())?;
        Ok(session)
    }
}

/// Map `m`'s descriptor, and whether it is a global (a data section's map, addressed by value).
fn map_fd(ebpf: &aya::Ebpf, object: &Object, m: usize) -> Option<(i32, bool)> {
    use aya::maps::Map;
    use std::os::fd::{AsFd, AsRawFd};
    let data = match ebpf.map(&object.maps.get(m)?.symbol)? {
        Map::Array(d) | Map::HashMap(d) | Map::PerCpuArray(d) | Map::PerCpuHashMap(d) | Map::RingBuf(d) | Map::StackTraceMap(d) => d,
        _ => return None,
    };
    Some((data.fd().as_fd().as_raw_fd(), m == object.internal.run))
}

/// The verifier's last line is its reason (skipping its statistics: `verification time`, `stack depth`,
/// `processed N insns`); the whole log goes with it for `-v`.
fn verify_error(probe: String, span: lang::ast::Span, e: aya::programs::ProgramError) -> Error {
    match e {
        aya::programs::ProgramError::LoadError { io_error, verifier_log } => {
            let log = verifier_log.to_string();
            let reason = attach::verifier_reason(&log).unwrap_or_else(|| io_error.to_string());
            Error::Verify { probe, span, reason, log }
        }
        other => Error::Verify { probe, span, reason: chain(&other), log: String::new() },
    }
}
