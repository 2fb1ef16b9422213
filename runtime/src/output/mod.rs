//! What vt prints, apart from the kernel: map contents and printed values become value shapes
//! (`shape`, decoded from bytes by `decode`), and each format renders shapes in one file: bpftrace's
//! text (`text`), BCC's histogram table (`bcc`) and bpftrace's `-f json` (`json`);
//! and Prometheus's exposition of the maps (`openmetrics`, served by `metrics`).

pub mod bcc;
pub mod decode;
pub mod json;
pub mod openmetrics;
pub mod render;
/// The value shapes live beside the aggregations that decode into them (`library::shape`).
pub use library::shape;
pub mod text;

use shape::{by_name, Kind, MapDump, Value};

/// Something a program asked the runtime to print, in ring buffer order.
#[derive(Clone, Debug)]
pub enum Output {
    /// `printf(..)`: the rendered bytes.
    Printf(Vec<u8>),
    /// `time(fmt)`: the formatted time.
    Time(String),
    /// `join(arr, delim)`: the joined strings (a line of their own).
    Join(String),
    /// `print(value)`.
    Value(Value),
    /// `print(@m, top, div)` (or `print(@hist, "label")`): the map as it was when the event was read.
    Map { map: MapDump, top: u32, div: u32, label: Option<String> },
}

/// How histograms print: bpftrace's `@` bars, or BCC's `print_log2_hist` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistStyle {
    #[default]
    Bpftrace,
    Bcc,
}

/// How output is written: bpftrace's text, with histograms in a style, or bpftrace's `-f json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text(HistStyle),
    Json,
}

impl Default for Format {
    fn default() -> Self {
        Format::Text(HistStyle::Bpftrace)
    }
}

impl Format {
    /// One output as this format writes it.
    pub fn output(self, o: &Output) -> Vec<u8> {
        match self {
            Format::Json => match o {
                Output::Printf(b) => json::printf(b),
                Output::Time(t) => json::time(t),
                Output::Join(t) => json::join(t),
                Output::Value(v) => json::value(v),
                Output::Map { map, top, div, .. } => json::map(map, *top, *div).unwrap_or_default(),
            }
            .into_bytes(),
            Format::Text(style) => match o {
                Output::Printf(bytes) => bytes.clone(),
                Output::Time(text) => text.clone().into_bytes(),
                Output::Join(text) => format!("{text}\n").into_bytes(),
                Output::Value(v) => format!("{}\n", text::value_text(v, 0)).into_bytes(),
                Output::Map { map, top, div, label } => map_text(map, *top, *div, style, label.as_deref()).into_bytes(),
            },
        }
    }

    /// Every map as printed at exit, sorted by name (without [`text::EXIT_PREAMBLE`]).
    pub fn maps(self, maps: &[MapDump]) -> String {
        match self {
            Format::Json => json::maps(maps),
            Format::Text(style) => by_name(maps).into_iter().map(|m| map_text(m, 0, 0, style, None)).collect(),
        }
    }
}

/// One map for `print()` or the exit dump, as text in `style`. In BCC style a log2 histogram prints as
/// BCC's table under its `@name[key]:` line; `print(@h, "label")` asks for the table alone, in either
/// style (see `bcc::bcc_map_text`).
pub fn map_text(map: &MapDump, top: u32, div: u32, style: HistStyle, label: Option<&str>) -> String {
    if map.kind != Kind::Hist || (style == HistStyle::Bpftrace && label.is_none()) {
        return text::map_text_with(map, top, div);
    }
    bcc::bcc_map_text(map, label)
}
