//! The fuzz targets' whole compile path (`fuzz/fuzz_targets/common.rs`: parse, check, compile, ELF,
//! aya's reading of the ELF) run by the normal suite over every input the fuzzers crashed on
//! (`fuzz/regressions/`) and over the cases around the one that reached the ELF writer.

#[path = "../../fuzz/fuzz_targets/common.rs"]
mod common;

/// Keyless aggregations that fill the shared per-CPU value (16 KiB) exactly: any later one gets a
/// per-CPU array of its own.
const FILL_SHARED: &str = "@a = lhist(1, 0, 1000, 1); @b = lhist(1, 0, 1000, 1); @c = lhist(1, 0, 42, 1);";

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");

#[test]
fn fuzz_regressions_take_the_whole_path() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(REGRESSIONS).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        // Refusals are fine (they are checked for a position); panics are not.
        let _ = common::whole_path(&bytes);
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(names.len() >= 4, "only {names:?} in {REGRESSIONS}");
}

/// `delete(@)` of a keyless aggregation referenced a map that lives inside the shared per-CPU value
/// and so has no ELF symbol: the ELF writer panicked. Now it zeroes what bpftrace's delete removes.
#[test]
fn keyless_aggregation_delete_loads() {
    let found = std::fs::read(format!("{REGRESSIONS}/elf-panic-delete-keyless-count")).unwrap();
    assert!(common::whole_path(&found).is_ok());
    let aggs = ["count()", "sum(5)", "min(5)", "max(5)", "avg(5)", "stats(5)", "hist(5)", "lhist(5, 0, 10, 1)"];
    for agg in aggs {
        // In the shared value; then in a per-CPU array of its own, once a wide lhist has filled the
        // shared value; then from a probe whose other statements do not touch the shared value.
        for source in [
            format!("BEGIN {{ @ = {agg}; delete(@); @ = {agg}; exit(); }}"),
            format!("BEGIN {{ {FILL_SHARED} @ = {agg}; delete(@); exit(); }}"),
            format!("BEGIN {{ @ = {agg}; }} END {{ delete(@); }}"),
        ] {
            let object = match common::whole_path(source.as_bytes()) {
                Ok(object) => object,
                Err(refused) => panic!("{source}: refused by {}:\n{}", refused.stage, refused.rendered),
            };
            // No kernel delete remains: keyless aggregations live in arrays.
            assert!(!object.listing().contains("map_delete_elem"), "{source}:\n{}", object.listing());
        }
    }
}

/// A keyless aggregation that did not fit the shared value has its own map; its delete looks its
/// entry up rather than asking the kernel to delete from an array (which fails).
#[test]
fn unshared_keyless_aggregation_has_its_own_map() {
    let source = format!("BEGIN {{ {FILL_SHARED} @ = count(); delete(@); exit(); }}");
    let object = common::whole_path(source.as_bytes()).unwrap();
    let at = object.user_maps.iter().position(|m| m.name.is_empty()).unwrap();
    assert_eq!(object.maps[at].within, None, "{:?}", object.maps);
    assert!(object.listing().contains("bpf_map_lookup_elem"));
}

/// fentry and fexit programs (and kfunc/kretfunc) take the whole path: their ELF sections are the ones
/// aya reads as FEntry and FExit (the runtime loads them itself; the sections only name the type).
#[test]
fn fentry_and_fexit_sections_read_back() {
    if !std::path::Path::new(&lang::btf::vmlinux_path()).exists() {
        return;
    }
    for source in [
        "fentry:vfs_read { @[func] = sum(args.count); }",
        "fexit:vfs_read { @ = hist(retval); }",
        "kfunc:vfs_write { @[str(args->file->f_path.dentry->d_name.name)] = count(); } kretfunc:vfs_write { @r = sum(retval); }",
    ] {
        assert!(common::whole_path(source.as_bytes()).is_ok(), "{source}");
    }
}
