//! Kernel symbols from /proc/kallsyms, read once when a script first prints a kernel address, kept
//! sorted by address in one string (the table holds some 200,000 names).

/// Every named kernel address: `addrs[i]` starts the symbol `names[ends[i-1]..ends[i]]`.
pub struct Kallsyms {
    addrs: Vec<u64>,
    ends: Vec<u32>,
    names: String,
}

impl Kallsyms {
    /// The table /proc/kallsyms holds (None where it shows every address as 0: not root).
    pub fn load() -> Option<Kallsyms> {
        Self::parse(&std::fs::read_to_string("/proc/kallsyms").ok()?)
    }

    /// Parses kallsyms' lines (`ADDR TYPE NAME [module]`). Absolute symbols (per-CPU offsets and the
    /// like) name no code and are left out.
    pub fn parse(text: &str) -> Option<Kallsyms> {
        let mut syms: Vec<(u64, &str)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let addr = u64::from_str_radix(f.next()?, 16).ok()?;
                let kind = f.next()?;
                let name = f.next()?;
                (addr != 0 && !kind.eq_ignore_ascii_case("a")).then_some((addr, name))
            })
            .collect();
        if syms.is_empty() {
            return None;
        }
        syms.sort_by_key(|s| s.0);
        let mut table = Kallsyms { addrs: Vec::with_capacity(syms.len()), ends: Vec::with_capacity(syms.len()), names: String::new() };
        for (addr, name) in syms {
            table.addrs.push(addr);
            table.names.push_str(name);
            table.ends.push(table.names.len() as u32);
        }
        Some(table)
    }

    /// The symbol holding `addr` (the last one starting at or below it) and `addr`'s offset into it.
    pub fn find(&self, addr: u64) -> Option<(&str, u64)> {
        let i = self.addrs.partition_point(|&a| a <= addr).checked_sub(1)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some((&self.names[start..self.ends[i] as usize], addr - self.addrs[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_symbol_below() {
        let t = Kallsyms::parse("0000000000000000 A fixed_percpu_data\nffffffff81000200 T b\nffffffff81000100 T a\n").unwrap();
        assert_eq!(t.find(0xffffffff81000100), Some(("a", 0)));
        assert_eq!(t.find(0xffffffff810001ff), Some(("a", 0xff)));
        assert_eq!(t.find(0xffffffff81000210), Some(("b", 0x10)));
        assert_eq!(t.find(0x10), None);
        assert!(Kallsyms::parse("0000000000000000 T hidden\n").is_none());
    }
}
