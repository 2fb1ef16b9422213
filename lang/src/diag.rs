//! Diagnostics: every error the language layers report is one of these, pointing at the source.

use crate::ast::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// One line saying what is wrong, e.g. "unknown field 'recv_pkt' of vhost_net:vhost_net_rx_end".
    pub message: String,
    /// The offending text.
    pub span: Span,
    /// A short label printed under the underline, e.g. "no such field".
    pub label: String,
    /// What to do about it, e.g. "did you mean 'recv_pkts'?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), span, label: label.into(), help: None }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
