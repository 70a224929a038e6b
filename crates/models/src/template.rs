//! Chat prompts: the model's own Jinja chat template (`tokenizer.chat_template`) rendered
//! the way Hugging Face's `apply_chat_template` does, with ChatML as the fallback.
//!
//! Python string methods used by templates (`.strip()`, `.startswith()`, …) come from
//! minijinja-contrib's pycompat layer; blocks are trimmed as in transformers
//! (`trim_blocks`, `lstrip_blocks`); `raise_exception(msg)` fails the render with `msg`.

use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;

use crate::error::{ModelsError, Result};
use crate::tokenizer::Tokenizer;

/// ChatML, for models whose file carries no template.
pub const CHATML_TEMPLATE: &str = "{%- for message in messages %}\
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}\
{%- endfor %}\
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const NAME: &str = "chat";

/// One turn of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// "system", "user" or "assistant".
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }
    pub fn system(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("system", content)
    }
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("user", content)
    }
    pub fn assistant(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("assistant", content)
    }
}

/// A compiled chat template with the model's bos/eos token texts.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    is_fallback: bool,
}

impl ChatTemplate {
    /// Compiles `source` (or [`CHATML_TEMPLATE`] when None). A syntax error is a
    /// [`ModelsError::Template`] at once rather than at the first chat.
    pub fn new(source: Option<&str>, bos_token: &str, eos_token: &str) -> Result<ChatTemplate> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> std::result::Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned(NAME, source.unwrap_or(CHATML_TEMPLATE).to_string())
            .map_err(|e| ModelsError::Template(format!("the model's chat template does not compile: {e}")))?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
            is_fallback: source.is_none(),
        })
    }

    /// The template of the tokenizer's model file, with its bos/eos token texts.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<ChatTemplate> {
        let specials = tokenizer.specials();
        let text = |id: Option<u32>| id.and_then(|id| tokenizer.token_text(id)).unwrap_or("");
        ChatTemplate::new(tokenizer.chat_template_source(), text(specials.bos), text(specials.eos))
    }

    /// True when the model had no template and ChatML is used.
    pub fn is_fallback(&self) -> bool {
        self.is_fallback
    }

    /// The prompt text for `messages`; with `add_generation_prompt` it ends where the
    /// assistant's reply begins. Tokenize the result with special tokens parsed.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let template = self.env.get_template(NAME).expect("added in new");
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => &self.bos_token,
                eos_token => &self.eos_token,
            })
            .map_err(|e| ModelsError::Template(format!("the model's chat template failed: {e}")))
    }
}
