//! A compact, deterministic text form of the checked program, for golden tests: what the checker
//! decided (map kinds and keys, attach targets, every expression's type, resolved fields and registry
//! entries), without spans.
//!
//! `map N @name KIND [KEY...]` per map, then per program `probe NAME TARGET` and an indented tree:
//! statements one per line, expressions as `(form args...):TYPE`.

use crate::typed::*;
use std::fmt::Write;

pub fn dump(p: &Program) -> String {
    let mut o = String::new();
    for (i, m) in p.maps.iter().enumerate() {
        let key: Vec<String> = m.key.iter().map(Ty::describe).collect();
        let _ = writeln!(o, "map {i} @{} {} [{}]", m.name, kind(&m.kind), key.join(", "));
    }
    for (i, f) in p.formats.iter().enumerate() {
        let args: Vec<String> = f.args.iter().map(Ty::describe).collect();
        let _ = writeln!(o, "format {i} {:?} [{}]", f.text, args.join(", "));
    }
    for pr in &p.probes {
        let _ = writeln!(o, "probe {} {}", pr.attach.probe, target(&pr.attach));
        let vars: Vec<String> = pr.vars.iter().enumerate().map(|(i, t)| format!("${i}:{}", t.describe())).collect();
        if !vars.is_empty() {
            let _ = writeln!(o, "  vars {}", vars.join(" "));
        }
        if let Some(pred) = &pr.predicate {
            let _ = writeln!(o, "  pred {}", expr(pred));
        }
        block(&mut o, &pr.body, 1);
    }
    o
}

fn kind(k: &MapKind) -> String {
    match k {
        MapKind::Agg(a) => {
            let params: Vec<String> = a.params.iter().map(i64::to_string).collect();
            format!("{}({}){}", a.name, params.join(", "), if a.signed { " signed" } else { "" })
        }
        MapKind::Value(t) => t.describe(),
    }
}

fn target(a: &Attach) -> String {
    match &a.target {
        Target::Begin => "begin".into(),
        Target::End => "end".into(),
        Target::Tracepoint { category, name } => format!("tracepoint {category}/{name}"),
        Target::PerfEvent(e) => {
            let cpu = e.cpu.map_or("every cpu".into(), |c| format!("cpu {c}"));
            let bp = e.breakpoint.map_or(String::new(), |b| format!(" breakpoint {:#x}:{}:{}", b.addr, b.len, b.bp_type));
            let pid = e.pid.map_or(String::new(), |p| format!(" pid {p}"));
            format!("perf_event type {} config {} {:?} {cpu}{bp}{pid}", e.perf_type, e.config, e.sample)
        }
        Target::Uprobe(u) => {
            let pid = u.pid.map_or(String::new(), |p| format!(" pid {p}"));
            format!("{} {}+{:#x}{pid}", if u.ret { "uretprobe" } else { "uprobe" }, u.path, u.offset)
        }
        Target::Kprobe(k) => format!("{} {}+{:#x}", if k.ret { "kretprobe" } else { "kprobe" }, k.symbol(), k.offset),
        Target::Fentry(f) => format!("{} {}{}", if f.ret { "fexit" } else { "fentry" }, f.module.as_deref().map_or(String::new(), |m| format!("{m}:")), f.func),
        Target::Usdt(u) => {
            let pid = u.pid.map_or(String::new(), |p| format!(" pid {p}"));
            let sem = u.semaphore.map_or(String::new(), |s| format!(" semaphore {s:#x}"));
            format!("usdt {}+{:#x}{sem}{pid} args {:?}", u.path, u.offset, u.args)
        }
        Target::RawTracepoint { name } => format!("raw_tracepoint {name}"),
    }
}

fn block(o: &mut String, stmts: &[TStmt], depth: usize) {
    for s in stmts {
        stmt(o, s, depth);
    }
}

fn stmt(o: &mut String, s: &TStmt, depth: usize) {
    let pad = "  ".repeat(depth);
    let line = match s {
        TStmt::Aggregate { map, keys, value } => {
            format!("aggregate {map} [{}] {}", list(keys), value.as_ref().map_or("-".into(), expr))
        }
        TStmt::MapStore { map, keys, value } => format!("store {map} [{}] {}", list(keys), expr(value)),
        TStmt::MapDelete { map, keys } => format!("delete {map} [{}]", list(keys)),
        TStmt::VarStore { var, value } => format!("${} = {}", var.0, expr(value)),
        TStmt::If { cond, then, otherwise } => {
            let _ = writeln!(o, "{pad}if {}", expr(cond));
            block(o, then, depth + 1);
            if !otherwise.is_empty() {
                let _ = writeln!(o, "{pad}else");
                block(o, otherwise, depth + 1);
            }
            return;
        }
        TStmt::For { var, lo, hi, body } => {
            let _ = writeln!(o, "{pad}for ${} {} {}", var.0, expr(lo), expr(hi));
            block(o, body, depth + 1);
            return;
        }
        TStmt::ForMap { var, map, body } => {
            let _ = writeln!(o, "{pad}for ${} map{}", var.0, map.0);
            block(o, body, depth + 1);
            return;
        }
        TStmt::While { cond, body } => {
            let _ = writeln!(o, "{pad}while {}", expr(cond));
            block(o, body, depth + 1);
            return;
        }
        TStmt::Break => "break".into(),
        TStmt::Continue => "continue".into(),
        TStmt::Event(e) => event(e),
        TStmt::Exit(0) => "exit".into(),
        TStmt::Exit(code) => format!("exit({code})"),
        TStmt::Return => "return".into(),
        TStmt::Eval(e) => format!("eval {}", expr(e)),
    };
    let _ = writeln!(o, "{pad}{line}");
}

fn event(e: &EventStmt) -> String {
    match e {
        EventStmt::Printf { format, args } => format!("printf {format} [{}]", list(args)),
        EventStmt::Command { format, args, system } => {
            format!("{} {format} [{}]", if *system { "system" } else { "cat" }, list(args))
        }
        EventStmt::Time { format } => format!("time {format}"),
        EventStmt::Print { map, top, div, label } => format!("print {map} top {top} div {div} label {label:?}"),
        EventStmt::PrintValue { format, value } => format!("print-value {format} {}", expr(value)),
        EventStmt::Clear { map } => format!("clear {map}"),
        EventStmt::Zero { map } => format!("zero {map}"),
        EventStmt::Join { format, arr } => format!("join {format} {}", expr(arr)),
        EventStmt::Watch { program, addr, stop } => format!("watch program {program} at {}{}", expr(addr), if *stop { ", stopped" } else { "" }),
    }
}

fn list(es: &[TExpr]) -> String {
    es.iter().map(expr).collect::<Vec<_>>().join(" ")
}

fn expr(e: &TExpr) -> String {
    let form = match &e.kind {
        TExprKind::Const(v) => v.to_string(),
        TExprKind::StrConst(s) => format!("{s:?}"),
        TExprKind::Builtin(name) => name.to_string(),
        TExprKind::Call { func, map, args } => match map {
            Some(m) => format!("({func} map {m} {})", list(args)),
            None => format!("({func} {})", list(args)),
        },
        TExprKind::CtxField { offset } => format!("(ctx +{offset})"),
        TExprKind::CtxChars { offset } => format!("(ctx-chars +{offset})"),
        TExprKind::CtxArrayElem { offset, elem, len, index } => format!("(ctx-elem +{offset} {elem}x{len} {})", expr(index)),
        TExprKind::CtxDataLoc { offset } => format!("(ctx-data-loc +{offset})"),
        TExprKind::Var(v) => format!("${}", v.0),
        TExprKind::MapRead { map, keys } => format!("(read {map} [{}])", list(keys)),
        TExprKind::Unary(op, a) => format!("({} {})", op.symbol(), expr(a)),
        TExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), expr(a), expr(b)),
        TExprKind::StrCmp { eq, lhs, rhs } => format!("(str{} {} {})", if *eq { "==" } else { "!=" }, expr(lhs), expr(rhs)),
        TExprKind::Ternary { cond, then, otherwise } => format!("(? {} {} {})", expr(cond), expr(then), expr(otherwise)),
        TExprKind::Cast(a) => format!("(cast {})", expr(a)),
        TExprKind::UserInt { addr } => format!("(user-int {})", expr(addr)),
        TExprKind::ByteAt { base, index } => format!("(byte {} {index})", expr(base)),
        TExprKind::Tuple(items) => format!("(tuple {})", list(items)),
        TExprKind::TupleField { base, index } => format!("(field {} {index})", expr(base)),
        TExprKind::Read { addr, size, user } => format!("(read{} {size} {})", if *user { "-user" } else { "" }, expr(addr)),
        TExprKind::ReadChars { addr, user } => format!("(read-chars{} {})", if *user { "-user" } else { "" }, expr(addr)),
    };
    format!("{form}:{}", e.ty.describe())
}
