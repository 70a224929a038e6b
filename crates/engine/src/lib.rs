//! Lossless speculative decoding: a cheap drafter guesses tokens, the target model checks
//! them all in one forward call, and the output is exactly what the target alone would
//! produce (token for token when greedy, in distribution when sampling).

mod commit;
pub mod drafter;
pub mod drafters;
pub mod error;
pub mod events;
pub mod generate;
pub mod hindsight;
pub mod model;
pub mod policy;
mod prefix;
pub mod rng;
pub mod sampler;
pub mod simulated;
pub mod verifier;

pub use drafter::{Drafter, DrafterKind, Proposal};
pub use drafters::{HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter};
pub use error::EngineError;
pub use events::{Event, Stats, StepEvent, StopReason};
pub use generate::{generate, GenerateConfig, Generator, Output, StopCheck};
pub use hindsight::{fastest_decode_ms, Hindsight};
pub use model::{Logits, LogitsWanted, Model, ModelError, TokenId};
pub use policy::{DraftLength, Policy, StepTiming};
pub use rng::Rng;
pub use sampler::SamplingParams;
pub use simulated::SimulatedCosts;
pub use verifier::{verify, Verdict};
