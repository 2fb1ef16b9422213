//! The script's own types: layout, typedefs.

use super::*;
use crate::ast::{CDef, Ident};

fn def(name: &str, union: bool, members: &[&str]) -> CDef {
    let span = Span::default();
    let members = members.iter().map(|m| (m.to_string(), span)).collect();
    CDef { union, name: Ident { name: name.into(), span }, members, span }
}

#[test]
fn declarations_split_into_type_name_and_length() {
    assert_eq!(declaration("char name[16]"), Some((("char".into(), Some(16)), "name".into())));
    assert_eq!(declaration("struct task_struct *t"), Some((("struct task_struct *".into(), None), "t".into())));
    assert_eq!(declaration("unsigned long long x"), Some((("unsigned long long".into(), None), "x".into())));
    assert_eq!(declaration("int a, b"), None);
    assert_eq!(declaration("int a : 3"), None);
    assert_eq!(declaration("u64"), None);
}

#[test]
fn script_records_are_laid_out_as_c_does() {
    define(&[
        def("pair", false, &["int a", "u64 b"]),
        def("mine", false, &["char tag", "int *p", "unsigned int n", "char name[16]", "struct pair pr"]),
        def("either", true, &["int i", "char c[12]"]),
    ], &[])
    .unwrap();
    let pair = named("struct pair").unwrap();
    assert_eq!(pair.size(), 16);
    assert_eq!(pair.field("b").unwrap().bit_offset, 64);
    let mine = named("struct mine").unwrap();
    assert_eq!(mine.size(), 56);
    assert_eq!(offset_of(&mine, &["name"]), Ok(20));
    assert_eq!(offset_of(&mine, &["pr", "b"]), Ok(48));
    assert_eq!(named("union either").unwrap().size(), 12);
    assert_eq!(mine.field("nme").unwrap_err(), vec!["tag", "p", "n", "name", "pr"]);
    // A new script replaces the old one's types.
    define(&[], &[]).unwrap();
    assert!(script_record("pair", false).is_none());
}

#[test]
fn typedefs_name_types_in_the_order_written() {
    let at = |n: usize| Span::new(n, n + 1);
    let td = |decl: &str, n: usize| crate::ast::CTypedef { decl: decl.into(), span: at(n) };
    let mut holder = def("holder", false, &["u32_t a", "pair_p p", "name_t n"]);
    holder.span = at(50);
    let mut pair = def("pair", false, &["int a", "u64 b"]);
    pair.span = at(10);
    let typedefs = [td("unsigned int u32_t", 0), td("struct pair *pair_p", 20), td("char name_t[16]", 30), td("u32_t again_t", 60)];
    define(&[pair, holder], &typedefs).unwrap();
    assert_eq!(named("u32_t").unwrap(), CType::Int { size: 4, signed: false });
    assert_eq!(named("again_t *").unwrap(), CType::Ptr(Box::new(CType::Int { size: 4, signed: false })));
    assert_eq!(named("struct holder").unwrap().size(), 32);
    assert_eq!(offset_of(&named("struct holder").unwrap(), &["n"]), Ok(16));
    assert!(matches!(typedef_named("pair_p"), Some(CType::Ptr(_))));
    // A typedef may name a struct defined after it (as C allows), but not one never defined, nor
    // take an integer type's name, nor another typedef's.
    let mut late = def("late", false, &["int a"]);
    late.span = at(40);
    define(&[late], &[td("struct late late_t", 0)]).unwrap();
    assert_eq!(named("late_t").unwrap().size(), 4);
    assert!(define(&[], &[td("struct never_defined_anywhere x_t", 0)]).is_err());
    assert!(define(&[], &[td("b_t a_t", 0), td("a_t b_t", 5)]).is_err());
    assert!(define(&[], &[td("int u32", 0)]).is_err());
    assert!(define(&[], &[td("int a_t", 0), td("long a_t", 5)]).is_err());
    define(&[], &[]).unwrap();
    assert!(script_typedef("u32_t").is_none());
}
