//! The `.vto` wire format against objects this registry compiles: round trips and refusals.

    use codegen::wire::*;
use lang::check::CheckOptions;
use library::LIBRARY;

    /// A saved tracefs with one tracepoint of integer, string, array and `__data_loc` fields.
    fn tracefs(name: &str) -> lang::provider::Tracefs {
        let root = std::env::temp_dir().join(format!("vt-wire-{name}-{}", std::process::id()));
        let dir = root.join("events/demo/demo_event");
        std::fs::create_dir_all(&dir).unwrap();
        let format = "name: demo_event\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
            \tfield:int len;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:char comm[16];\toffset:12;\tsize:16;\tsigned:0;\n\
            \tfield:__data_loc char[] path;\toffset:28;\tsize:4;\tsigned:0;\n\tfield:u64 bytes;\toffset:32;\tsize:8;\tsigned:0;\n\n\
            print fmt: \"\"\n";
        std::fs::write(dir.join("format"), format).unwrap();
        lang::provider::Tracefs::new(root)
    }

    const SCRIPT: &str = r#"BEGIN { @start = nsecs; printf("go %s %d\n", $1, 3); time("%H\n"); }
tracepoint:demo:demo_event /args.len > 0/ {
  @c = count(); @s = sum(args.len); @u[comm] = sum(args.bytes); @mn = min(args.len); @mx[pid, tid] = max(args.len);
  @a = avg(args.bytes); @st = stats(args.len); @h = hist(args.bytes); @l[str(args.path)] = lhist(args.len, 0, 100, 10);
  @last[args.comm] = (args.len, str(args.path)); print(@c); clear(@h); zero(@s); delete(@u[comm]);
}
interval:ms:100 { exit(); }
END { printf("%d %s\n", @start, "x"); }"#;

    fn compiled(name: &str) -> codegen::Object {
        let script = lang::parse(SCRIPT).unwrap();
        let program = library::check(&script, &mut tracefs(name), &CheckOptions { params: vec!["hello".into()], ..Default::default() }).unwrap();
        library::compile(&program).unwrap()
    }

    #[test]
    fn round_trip_keeps_the_listing_and_the_elf() {
        let object = compiled("round");
        assert!(object.maps.iter().any(|m| m.within.is_some()) && object.programs.len() == 4);
        let wire = Object::from(&object);
        let back = wire.to_object(&LIBRARY).unwrap();
        assert_eq!(back.listing(), object.listing());
        assert_eq!(codegen::elf::write(&back).unwrap(), codegen::elf::write(&object).unwrap());
        assert_eq!(back.user_maps, object.user_maps);
        assert_eq!(back.maps, object.maps);
        assert_eq!(back.internal, object.internal);
        assert_eq!(back.formats, object.formats);
        assert_eq!(Object::from(&back), wire);
    }

    #[test]
    fn inconsistent_objects_are_refused() {
        let good = Object::from(&compiled("bad"));
        let refused = |change: &dyn Fn(&mut Object)| {
            let mut w = good.clone();
            change(&mut w);
            w.to_object(&LIBRARY).unwrap_err().to_string()
        };
        let n = good.maps.len();
        assert_eq!(refused(&|w| w.internal.events = 99), format!("internal map 99 is out of range (it has {n})"));
        assert!(refused(&|w| w.programs[1].relocs[0][1] = u64::MAX).starts_with("map 18446744073709551615 is out of range"));
        assert!(refused(&|w| w.programs[1].relocs[0][0] = 1 << 40).starts_with("relocated instruction 1099511627776"));
        let within = good.maps.iter().position(|m| m.within.is_some()).unwrap() as u64;
        assert!(refused(&|w| w.programs[1].relocs[0][1] = within).contains("which is not a kernel map"));
        let lhist = good.user_maps.iter().position(|m| matches!(&m.kind, MapKind::Agg(a) if a.name == "lhist")).unwrap();
        // Bounds the registry's lhist cannot lay out are refused as a layout that differs.
        for params in [vec![i64::MIN, i64::MAX, 1], vec![0, 10, 0], vec![0]] {
            let bad = Agg { name: "lhist".into(), params, signed: true, sums: false };
            assert!(refused(&|w| w.user_maps[lhist].kind = MapKind::Agg(bad.clone())).contains("@l"));
        }
        let unknown = Agg { name: "median".into(), params: vec![], signed: false, sums: false };
        assert!(refused(&|w| w.user_maps[lhist].kind = MapKind::Agg(unknown.clone())).contains("@l"));
        assert_eq!(refused(&|w| w.user_maps[0].key = vec![Ty::Str(64)]), "map @start is not laid out as its type says");
        assert!(refused(&|w| w.maps[within as usize].within = Some(1 << 30)).contains("does not fit in the shared value"));
        assert!(refused(&|w| w.maps.truncate(2)).contains("user maps but has only 2 maps"));
    }

    /// fentry and fexit attach points (their target, and the BTF-typed `args` record with fexit's
    /// return value) survive the wire form.
    #[test]
    fn fentry_round_trips() {
        if !std::path::Path::new(&lang::btf::vmlinux_path()).exists() {
            return;
        }
        let script = lang::parse("fentry:vfs_read { @[str(args.file->f_path.dentry->d_name.name)] = sum(args.count); } fexit:vfs_read { @r = hist(retval); }").unwrap();
        let program = library::check(&script, &mut tracefs("fentry"), &CheckOptions::default()).unwrap();
        let object = library::compile(&program).unwrap();
        let back = Object::from(&object).to_object(&LIBRARY).unwrap();
        assert_eq!(back.listing(), object.listing());
        for (a, b) in back.programs.iter().zip(&object.programs) {
            assert_eq!(a.attach.target, b.attach.target);
            assert_eq!(a.attach.args, b.attach.args);
        }
        assert!(matches!(&back.programs[1].attach.target, lang::typed::Target::Fentry(f) if f.ret && f.func == "vfs_read"));
    }
