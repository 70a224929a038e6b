//! The concrete drafters.

pub mod hybrid;
pub mod model;
pub mod ngram;

pub use hybrid::HybridDrafter;
pub use model::ModelDrafter;
pub use ngram::{NgramConfig, NgramDrafter};
