//! Builds the workload's C part (csrc/): the USDT probes `shapes usdt N` fires (<sys/sdt.h>, from
//! Debian's systemtap-sdt-dev, which tests/run.sh installs; without it the C compiles to stubs and
//! the usdt action says so) and the global `shapes watch N` writes. Linked into `shapes` as a static
//! library, so that one workload program has them all.

use std::path::PathBuf;
use std::process::Command;

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    // The plain probes at -O0 (arguments in memory), the guarded one at -O2 (in registers).
    let mut objects = Vec::new();
    for (file, opt) in [("usdt_plain", "-O0"), ("usdt_guarded", "-O2")] {
        let src = format!("csrc/{file}.c");
        println!("cargo:rerun-if-changed={src}");
        let obj = out.join(format!("{file}.o"));
        run(Command::new(&cc).args([opt, "-g0", "-fPIC", "-c", &src, "-o"]).arg(&obj));
        objects.push(obj);
    }
    let lib = out.join("libvtshapesc.a");
    let _ = std::fs::remove_file(&lib);
    run(Command::new("ar").arg("crs").arg(&lib).args(&objects));
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
    // Built again once <sys/sdt.h> is installed (a path that does not exist makes cargo rerun this).
    let headers = ["/usr/include/x86_64-linux-gnu/sys/sdt.h", "/usr/include/sys/sdt.h"];
    match headers.iter().find(|h| std::path::Path::new(h).exists()) {
        Some(h) => println!("cargo:rerun-if-changed={h}"),
        None => headers.iter().for_each(|h| println!("cargo:rerun-if-changed={h}")),
    }
}
