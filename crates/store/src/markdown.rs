//! Markdown renderings of exports, for reading and sharing (import reads only JSON).

use std::fmt::Write;

use crate::export::{ConversationExport, DocumentExport};
use crate::model::{MessageStats, MessageStatus, Role};
use crate::time::{format_short, parse_rfc3339};

/// An export time for people; the raw text if it does not parse.
fn when(rfc3339: &str) -> String {
    parse_rfc3339(rfc3339).map(format_short).unwrap_or_else(|| rfc3339.to_string())
}

/// One line of an answer's figures.
pub fn stats_line(s: &MessageStats) -> String {
    let mut line = format!(
        "{} tokens · {:.1} tok/s · drafter {} · {}/{} drafted tokens accepted ({:.0}%) · {} steps",
        s.generated,
        s.tokens_per_second,
        s.drafter,
        s.accepted,
        s.drafted,
        s.acceptance_rate * 100.0,
        s.steps
    );
    if let Some(p) = s.prompt_tokens {
        let _ = write!(line, " · prompt {p} tokens, prefill {:.0} ms", s.prefill_ms);
    }
    if let Some(r) = &s.stop_reason {
        let _ = write!(line, " · stop: {r}");
    }
    line
}

impl ConversationExport {
    pub fn to_markdown(&self) -> String {
        let mut md = format!("# {}\n\n", self.title);
        let _ = writeln!(md, "Started {} · last changed {}  ", when(&self.created_at), when(&self.updated_at));
        if let Some(p) = &self.pair {
            let draft = p.draft.as_deref().map(|d| format!(", draft `{d}`")).unwrap_or_default();
            let _ = writeln!(md, "Models: target `{}`{draft}, drafter {}", p.target, p.drafter);
        }
        for m in &self.messages {
            let who = match m.role {
                Role::System => "System",
                Role::User => "User",
                Role::Assistant => "Assistant",
            };
            let status = match m.status {
                MessageStatus::Complete => String::new(),
                other => format!(" ({})", other.as_str()),
            };
            let _ = write!(md, "\n## {who}{status}\n\n{}\n", m.text.trim_end());
            if let Some(s) = &m.stats {
                let _ = write!(md, "\n*{}*\n", stats_line(s));
            }
        }
        md
    }
}

impl DocumentExport {
    pub fn to_markdown(&self) -> String {
        format!(
            "# {}\n\n{}\n\n---\n*Revision {} · last changed {}*\n",
            self.title,
            self.body.trim_end(),
            self.revisions.len(),
            when(&self.updated_at)
        )
    }
}
