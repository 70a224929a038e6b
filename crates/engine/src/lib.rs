pub mod model;
pub use model::{Logits, LogitsWanted, Model, ModelError, TokenId};
