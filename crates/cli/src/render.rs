//! Human output: the answer streamed with the origin of every token shown by colour.
//!
//! Accepted draft tokens are green, the target's own tokens keep the terminal's colour,
//! and rejected guesses are shown dimmed and struck through right where they were tried.
//! Without a terminal (a pipe or a file) only the answer's text is written.

use std::io::{IsTerminal, Write};

const GREEN: &str = "\x1b[32m";
const REJECTED: &str = "\x1b[2;9m";
const RESET: &str = "\x1b[0m";

/// Where a piece of text came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    AcceptedDraft,
    Target,
    Rejected,
}

pub struct Painter {
    colour: bool,
    out: std::io::Stdout,
}

impl Painter {
    pub fn stdout() -> Painter {
        let out = std::io::stdout();
        let colour = out.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Painter { colour, out }
    }

    /// Writes `text`; rejected guesses are only shown when colours are on, because
    /// without them they could not be told apart from the answer.
    pub fn paint(&mut self, text: &str, origin: Origin) {
        if text.is_empty() {
            return;
        }
        let mut out = self.out.lock();
        let _ = match (self.colour, origin) {
            (false, Origin::Rejected) => Ok(()),
            (false, _) | (true, Origin::Target) => write!(out, "{text}"),
            (true, Origin::AcceptedDraft) => write!(out, "{GREEN}{text}{RESET}"),
            (true, Origin::Rejected) => write!(out, "{REJECTED}{text}{RESET}"),
        };
        let _ = out.flush();
    }

    pub fn legend(&self) -> Option<String> {
        self.colour.then(|| {
            format!("{GREEN}green{RESET}: the draft's guess, accepted by the target · plain: the target's own token · {REJECTED}struck{RESET}: a rejected guess")
        })
    }
}
