//! Errors of the engine, each with a stable machine-readable code for the UI.

use crate::model::ModelError;

/// Everything that can stop a generation early with an error.
///
/// `code()` strings are part of the UI contract: never rename one.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The prompt (plus at least the first generated position) does not fit the target's context.
    #[error("the conversation is longer than the model's context ({max} tokens)")]
    ContextFull { max: usize },
    /// The target model failed.
    #[error("the model failed: {0}")]
    Model(String),
    /// The draft model failed.
    #[error("the draft model failed: {0}")]
    DraftModel(String),
    /// Generation needs at least one prompt token.
    #[error("the prompt is empty")]
    EmptyPrompt,
    /// Logits of the wrong shape, or with no finite value to choose from.
    #[error("invalid logits: {0}")]
    InvalidLogits(String),
    /// A drafter returned a proposal that breaks the `Proposal` invariants.
    #[error("invalid draft proposal: {0}")]
    InvalidProposal(String),
    /// Sampling or generation settings out of range.
    #[error("invalid settings: {0}")]
    InvalidConfig(String),
}

impl EngineError {
    /// A stable identifier of the error kind, for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::ContextFull { .. } => "context_full",
            EngineError::Model(_) => "model_failed",
            EngineError::DraftModel(_) => "draft_failed",
            EngineError::EmptyPrompt => "empty_prompt",
            EngineError::InvalidLogits(_) => "invalid_logits",
            EngineError::InvalidProposal(_) => "invalid_proposal",
            EngineError::InvalidConfig(_) => "invalid_config",
        }
    }

    /// Maps an error of the draft model; a full draft context is still a draft failure,
    /// because the conversation itself may well fit the target.
    pub fn from_draft(err: ModelError) -> Self {
        EngineError::DraftModel(err.to_string())
    }
}

/// A target-model error: a full context keeps its own kind so the UI can offer to trim.
impl From<ModelError> for EngineError {
    fn from(err: ModelError) -> Self {
        match err {
            ModelError::ContextFull { max } => EngineError::ContextFull { max },
            ModelError::Other(msg) => EngineError::Model(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_context_full_keeps_its_code_draft_errors_do_not() {
        let e: EngineError = ModelError::ContextFull { max: 512 }.into();
        assert_eq!(e.code(), "context_full");
        assert!(e.to_string().contains("512"));
        let e: EngineError = ModelError::Other("boom".into()).into();
        assert_eq!(e.code(), "model_failed");
        let e = EngineError::from_draft(ModelError::ContextFull { max: 64 });
        assert_eq!(e.code(), "draft_failed");
    }
}
