//! The records the store hands out and takes in.

use serde::{Deserialize, Serialize};
use tandem_engine::{Stats, StopReason};

use crate::error::StoreError;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    pub fn parse(text: &str) -> Result<Role, StoreError> {
        match text {
            "system" => Ok(Role::System),
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            other => Err(StoreError::Corrupt(format!("unknown message role {other:?}"))),
        }
    }
}

/// Where a message stands.
///
/// Invariant: `Streaming` only while a live process is writing the answer; a store opened
/// after that process died turns it into `Interrupted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Streaming,
    /// Written in full (every user and system message; an answer that reached its end).
    Complete,
    /// The person stopped the answer.
    Cancelled,
    /// The answer ended early without a `Done`: the process died or generation failed.
    /// Its text and trace hold everything up to the last batch that was committed.
    Interrupted,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Streaming => "streaming",
            MessageStatus::Complete => "complete",
            MessageStatus::Cancelled => "cancelled",
            MessageStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Result<MessageStatus, StoreError> {
        match text {
            "streaming" => Ok(MessageStatus::Streaming),
            "complete" => Ok(MessageStatus::Complete),
            "cancelled" => Ok(MessageStatus::Cancelled),
            "interrupted" => Ok(MessageStatus::Interrupted),
            other => Err(StoreError::Corrupt(format!("unknown message status {other:?}"))),
        }
    }
}

/// The models and drafter that answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub target: String,
    pub draft: Option<String>,
    /// "model", "ngram", "hybrid" or "none".
    pub drafter: String,
}

/// A conversation's header.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The pair of the latest answer; `None` before the first.
    pub pair: Option<Pair>,
    /// Sampling and draft-length settings of the latest answer (a JSON object).
    pub settings: serde_json::Value,
    /// Number of messages.
    pub messages: i64,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub role: Role,
    pub text: String,
    pub status: MessageStatus,
    /// Totals of a generated answer, written with its `Done`; `None` for messages nobody
    /// generated and for answers that never reached `Done` (their trace holds what is known).
    pub stats: Option<MessageStats>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The totals of one generated answer: the engine's [`Stats`] plus how it began and ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageStats {
    pub generated: usize,
    pub drafted: usize,
    pub accepted: usize,
    pub acceptance_rate: f64,
    pub steps: usize,
    pub mean_accepted: f64,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub tokens_per_second: f64,
    pub drafter: String,
    /// Tokens of the prompt the answer was generated from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<usize>,
    /// Why generation ended ("eos", "max_tokens", "stop_string", "cancelled", "context_full").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

impl MessageStats {
    pub fn from_engine(stats: &Stats, reason: StopReason, prompt_tokens: Option<usize>) -> MessageStats {
        MessageStats {
            generated: stats.generated,
            drafted: stats.drafted,
            accepted: stats.accepted,
            acceptance_rate: stats.acceptance_rate,
            steps: stats.steps,
            mean_accepted: stats.mean_accepted,
            prefill_ms: stats.prefill_ms,
            decode_ms: stats.decode_ms,
            tokens_per_second: stats.tokens_per_second,
            drafter: stats.drafter.clone(),
            prompt_tokens,
            stop_reason: Some(stop_reason_name(reason).to_string()),
        }
    }
}

/// The engine's snake_case name of a stop reason.
pub(crate) fn stop_reason_name(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Eos => "eos",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopString => "stop_string",
        StopReason::Cancelled => "cancelled",
        StopReason::ContextFull => "context_full",
    }
}

/// A document at its current revision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Document {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// The current revision number, starting at 1.
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One saved state of a document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentRevision {
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub created_at: i64,
}

/// What a search matched.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SearchHit {
    Message {
        conversation_id: i64,
        message_id: i64,
        /// The conversation's title.
        title: String,
        /// The matching passage, matches in `[` `]`.
        snippet: String,
    },
    Document {
        document_id: i64,
        title: String,
        snippet: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_names_match_the_engine_serialisation() {
        for r in [
            StopReason::Eos,
            StopReason::MaxTokens,
            StopReason::StopString,
            StopReason::Cancelled,
            StopReason::ContextFull,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), stop_reason_name(r));
        }
    }

    #[test]
    fn names_parse_back() {
        for r in [Role::System, Role::User, Role::Assistant] {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        for s in
            [MessageStatus::Streaming, MessageStatus::Complete, MessageStatus::Cancelled, MessageStatus::Interrupted]
        {
            assert_eq!(MessageStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(Role::parse("robot").is_err() && MessageStatus::parse("done").is_err());
    }
}
