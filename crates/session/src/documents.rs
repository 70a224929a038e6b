//! Long-form documents: the instructions people give (continue, rewrite the selection, fix
//! grammar, summarise), answered into the document and saved as a new revision.

use serde::Deserialize;

use crate::app::App;
use crate::error::{Result, SessionError};
use crate::text::GenEvent;
use crate::views::{DocumentView, RevisionView};
use tandem_models::ChatMessage;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Instruction {
    Continue,
    Rewrite,
    Grammar,
    Summarise,
}

const SYSTEM: &str = "You are a careful writing assistant. Reply with the requested text only: \
                      no preamble, no quotation marks around it, no explanations.";

impl Instruction {
    fn request(self, text: &str) -> String {
        match self {
            Instruction::Continue => format!("Continue this text in the same voice for a paragraph:\n\n{text}"),
            Instruction::Rewrite => format!("Rewrite this passage so it reads better, keeping its meaning:\n\n{text}"),
            Instruction::Grammar => {
                format!("Correct the spelling and grammar of this text. Change nothing else:\n\n{text}")
            }
            Instruction::Summarise => format!("Summarise this text in a few sentences:\n\n{text}"),
        }
    }
}

impl App {
    pub fn documents(&self) -> Result<Vec<DocumentView>> {
        Ok(self.store.list_documents()?.iter().map(DocumentView::from).collect())
    }

    pub fn document(&self, id: i64) -> Result<DocumentView> {
        Ok(DocumentView::from(&self.store.document(id)?))
    }

    /// Creates the document (`id = None`) or saves a new revision of it.
    pub fn save_document(&self, id: Option<i64>, title: &str, body: &str) -> Result<DocumentView> {
        let title = if title.trim().is_empty() { "Untitled" } else { title.trim() };
        let id = match id {
            None => self.store.create_document(title, body)?,
            Some(id) => {
                self.store.update_document(id, title, body)?;
                id
            }
        };
        self.document(id)
    }

    pub fn delete_document(&self, id: i64) -> Result<()> {
        Ok(self.store.delete_document(id)?)
    }

    pub fn document_revisions(&self, id: i64) -> Result<Vec<RevisionView>> {
        Ok(self.store.document_revisions(id)?.iter().map(RevisionView::from).collect())
    }

    pub fn export_document_markdown(&self, id: i64) -> Result<String> {
        Ok(self.store.export_document(id)?.to_markdown())
    }

    /// Applies `instruction` to the selection (`start..end`, in characters) or, without one,
    /// the whole document; the answer streams as it is written and the result is saved as
    /// a new revision. Continue and summarise add after the text; the others replace it.
    pub fn document_instruct(
        &self,
        id: i64,
        instruction: Instruction,
        selection: Option<(usize, usize)>,
        on_event: &mut dyn FnMut(GenEvent),
    ) -> Result<DocumentView> {
        let mut engine = self.engine()?;
        let loaded = engine.as_mut().expect("checked by engine()");
        let doc = self.store.document(id)?;
        let chars: Vec<char> = doc.body.chars().collect();
        let (start, end) = match selection {
            Some((s, e)) if s < e && e <= chars.len() => (s, e),
            Some(_) => return Err(SessionError::invalid("the selection is outside the document")),
            None => (0, chars.len()),
        };
        let target: String = chars[start..end].iter().collect();
        if target.trim().is_empty() {
            return Err(SessionError::invalid("there is no text to work on: write or select some first"));
        }
        let chat = [ChatMessage::system(SYSTEM.to_string()), ChatMessage::user(instruction.request(&target))];
        let prompt = loaded.runtime.chat_prompt(&chat)?;
        let speculate = loaded.runtime.drafter_name() != "none";
        let sampling = self.settings().sampling();
        let (answer, _) = self.answer(loaded, &prompt, &sampling, speculate, None, on_event)?;
        let answer = answer.trim();
        let before: String = chars[..start].iter().collect();
        let after: String = chars[end..].iter().collect();
        let body = match instruction {
            Instruction::Rewrite | Instruction::Grammar => format!("{before}{answer}{after}"),
            Instruction::Continue => format!("{before}{target}{}{answer}{after}", separator(&target)),
            Instruction::Summarise => format!("{before}{target}\n\nSummary: {answer}{after}"),
        };
        self.store.update_document(id, &doc.title, &body)?;
        self.document(id)
    }
}

/// A space or nothing, so a continuation joins the text the way a person would type it.
fn separator(text: &str) -> &'static str {
    if text.ends_with(char::is_whitespace) {
        ""
    } else {
        " "
    }
}
