//! Reading the ring buffer: what programs asked the runtime to do (exit, clear, zero) and to print.

use super::{Error, MapError, Output, Session};
use crate::output::{decode, text};
use crate::printf::{self, Arg};
use codegen::event;
use codegen::layout::TySize as _;
use lang::typed::{Render, Ty};

/// The 8-byte word `i` of `b` (0 where it is too short).
fn word(b: &[u8], i: usize) -> u64 {
    b.get(8 * i..8 * i + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

impl Session {
    /// Acts on the events waiting in the ring buffer (exit, clear, zero) and returns, in order, what
    /// they ask to print, for the caller to render.
    pub fn drain_outputs(&mut self) -> Result<Vec<Output>, Error> {
        let mut records = Vec::new();
        while let Some(item) = self.events.next() {
            records.push(item.to_vec());
        }
        let mut outputs = Vec::new();
        for r in records {
            // Events after an exit() (probes keep firing until they are detached) are dropped, as
            // bpftrace drops them: `{ printf(..); exit(); }` prints one line.
            if r.len() >= 24 && word(&r, 0) == event::WATCH {
                // Even after exit(): a stopped process must be let go.
                self.arm_watchpoint(word(&r, 1) as usize, word(&r, 2))?;
                continue;
            }
            if r.len() < 16 || (self.exit_requested && !self.ending) {
                continue;
            }
            let (kind, arg) = (word(&r, 0), word(&r, 1) as usize);
            let payload = &r[16..];
            let format = self.object.formats.get(arg);
            let output = match (kind, format) {
                (event::EXIT, _) => {
                    if !self.exit_requested {
                        self.exit_code = arg as u8;
                    }
                    self.exit_requested = true;
                    continue;
                }
                (event::PRINTF, Some(f)) => {
                    let pieces = lang::printf::parse(&f.text).unwrap_or_default();
                    Output::Printf(printf::render_bytes(&pieces, &decode_args(&f.args, payload, &self.names())))
                }
                (event::CAT | event::SYSTEM, Some(f)) => {
                    let pieces = lang::printf::parse(&f.text).unwrap_or_default();
                    let text = printf::render(&pieces, &decode_args(&f.args, payload, &self.names()));
                    Output::Printf(if kind == event::CAT { super::command::cat(&text) } else { super::command::system(&text) })
                }
                (event::TIME, Some(f)) => {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                    Output::Time(printf::strftime(&f.text, now.as_nanos()))
                }
                (event::JOIN, Some(f)) => Output::Join(joined(payload, &f.text)),
                (event::PRINT_VALUE, Some(f)) => {
                    let Some(ty) = f.args.first() else { continue };
                    Output::Value(decode::typed(ty, &payload[..(ty.size() as usize).min(payload.len())], &self.names()))
                }
                (event::PRINT, _) if arg < self.object.user_maps.len() => {
                    let (top, div, label) = (word(payload, 0) as u32, word(payload, 1) as u32, word(payload, 2) as usize);
                    let label = label.checked_sub(1).and_then(|l| self.object.formats.get(l)).map(|f| f.text.clone());
                    let map = self.kernel_map(arg)?.dump().map_err(MapError::Io)?;
                    Output::Map { map, top, div, label }
                }
                (event::CLEAR | event::ZERO, _) if arg < self.object.user_maps.len() => {
                    self.clear_or_zero(arg, kind == event::ZERO)?;
                    continue;
                }
                _ => continue,
            };
            outputs.push(output);
        }
        Ok(outputs)
    }
}

/// A join event's strings up to the first empty one, with `delim` between them.
fn joined(payload: &[u8], delim: &str) -> String {
    let parts: Vec<String> = payload
        .chunks(event::JOIN_ARG_SIZE as usize)
        .take(event::JOIN_ARGS as usize)
        .map(|s| String::from_utf8_lossy(s.split(|&b| b == 0).next().unwrap_or_default()).into_owned())
        .take_while(|s| !s.is_empty())
        .collect();
    parts.join(delim)
}

/// printf arguments from an event's payload, laid out by their types.
fn decode_args(types: &[Ty], payload: &[u8], names: &crate::symbols::Names) -> Vec<Arg> {
    let mut at = 0;
    types
        .iter()
        .map(|ty| {
            let size = ty.size() as usize;
            let bytes = payload.get(at..at + size).unwrap_or(&[]);
            at += size;
            match ty {
                Ty::Int(i) if bytes.len() == 8 => Arg::Int { value: word(bytes, 0), signed: i.signed, bits: 64 },
                Ty::Text(Render::Buf(_)) => Arg::Bytes(crate::output::render::buf_bytes(bytes).to_vec()),
                _ => Arg::Str(text::value_text(&decode::typed(ty, bytes, names), 0)),
            }
        })
        .collect()
}
