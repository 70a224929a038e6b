//! `tandem generate --db`: the exchange goes into the history database as it happens.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde_json::json;
use tandem_engine::Event;
use tandem_models::{ChatMessage, Tokenizer};
use tandem_store::{Pair, Role, Store, StoreError, TraceWriter};

use crate::args::GenerateArgs;

/// One generate's link to the history: the conversation it continues or starts, and the
/// writer of its answer once generation begins.
pub struct Recording {
    store: Store,
    path: PathBuf,
    /// `None` until `begin` for `--conversation new`.
    conversation: Option<i64>,
    /// The conversation's earlier messages with text, oldest first.
    history: Vec<ChatMessage>,
    writer: Option<TraceWriter>,
    /// A step the trace could not hold: the saved answer is incomplete.
    lost: Option<StoreError>,
}

/// What `--conversation` asks for: an id, or `new` (the default).
fn parse_conversation(spec: Option<&str>) -> Result<Option<i64>> {
    match spec {
        None | Some("new") => Ok(None),
        Some(id) => id.parse().map(Some).with_context(|| format!("--conversation takes an id or `new`, not {id:?}")),
    }
}

/// Tells the user what opening the database found (a file moved aside, read-only, ...).
pub fn print_notices(store: &Store) {
    for n in store.report().notices() {
        eprintln!("tandem: note: {n}");
    }
}

impl Recording {
    /// Opens the database before the models load, so that a database that cannot take
    /// the answer fails the command at once.
    pub fn open(db: &Path, conversation: Option<&str>) -> Result<Recording> {
        let wanted = parse_conversation(conversation)?;
        let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
        print_notices(&store);
        if store.is_read_only() {
            bail!("history database {} is read-only, so the answer could not be saved", db.display());
        }
        let history = match wanted {
            Some(id) => store
                .messages(id)
                .with_context(|| format!("history database {}", db.display()))?
                .into_iter()
                // Partial answers of interrupted turns stay part of the chat, as they were shown.
                .filter(|m| !m.text.is_empty())
                .map(|m| ChatMessage::new(m.role.as_str(), m.text))
                .collect(),
            None => Vec::new(),
        };
        Ok(Recording { store, path: db.to_path_buf(), conversation: wanted, history, writer: None, lost: None })
    }

    /// The chat so far, to send before the new turn.
    pub fn chat_history(&self) -> &[ChatMessage] {
        &self.history
    }

    /// Saves the new turn's system and user messages and starts the answer.
    pub fn begin(&mut self, args: &GenerateArgs, user: &str, drafter: &str, tokenizer: Arc<Tokenizer>) -> Result<()> {
        let context = || format!("saving to history database {}", self.path.display());
        let id = match self.conversation {
            Some(id) => id,
            None => self.store.create_conversation(&title(user)).with_context(context)?,
        };
        self.conversation = Some(id);
        let uses_draft = drafter == "model" || drafter == "hybrid";
        let pair = Pair {
            target: args.pair.target.clone(),
            draft: if uses_draft { args.pair.draft.clone() } else { None },
            drafter: drafter.to_string(),
        };
        let s = &args.sampling;
        let settings = json!({
            "max_tokens": s.max_tokens, "temperature": s.temperature, "top_p": s.top_p, "seed": s.seed,
            "stop": s.stop, "draft_max": args.pair.draft_max, "draft_limit": args.pair.draft_limit, "raw": args.raw,
        });
        self.store.set_conversation_pair(id, &pair, &settings).with_context(context)?;
        if let Some(system) = &args.system {
            self.store.add_message(id, Role::System, system).with_context(context)?;
        }
        self.store.add_message(id, Role::User, user).with_context(context)?;
        let writer = self.store.begin_answer(id, move |ids| tokenizer.decode(ids)).with_context(context)?;
        self.writer = Some(writer);
        Ok(())
    }

    /// Records one event. Database trouble (locked, full) is retried by the next commit,
    /// which carries every step still pending; a step the trace cannot hold is reported
    /// at the end.
    pub fn on_event(&mut self, event: &Event) {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.on_event(event) {
                if matches!(e, StoreError::Trace(_) | StoreError::Misuse(_)) {
                    self.lost.get_or_insert(e);
                }
            }
        }
    }

    /// After generation: commits what is left and says where the exchange is.
    pub fn finish(mut self) -> Result<()> {
        let context = || format!("saving the answer to history database {}", self.path.display());
        let mut writer = self.writer.take().context("the answer was never started")?;
        writer.flush().with_context(context)?;
        if let Some(e) = self.lost.take() {
            return Err(e).with_context(context);
        }
        eprintln!(
            "history: conversation {} · message {} · {}",
            self.conversation.expect("begin sets the conversation"),
            writer.message_id(),
            self.path.display()
        );
        Ok(())
    }
}

/// A new conversation's title: the start of the first prompt's first line.
fn title(prompt: &str) -> String {
    let line = prompt.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("Untitled");
    let mut t: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title("\n  Fix this bug  \nmore"), "Fix this bug");
        assert_eq!(title(""), "Untitled");
        assert_eq!(title(&"é".repeat(70)), format!("{}…", "é".repeat(60)));
    }

    #[test]
    fn conversation_specs() {
        assert_eq!(parse_conversation(None).unwrap(), None);
        assert_eq!(parse_conversation(Some("new")).unwrap(), None);
        assert_eq!(parse_conversation(Some("12")).unwrap(), Some(12));
        assert!(parse_conversation(Some("latest")).is_err());
    }
}
