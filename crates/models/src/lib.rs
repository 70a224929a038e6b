//! GGUF models for Tandem: loading, the transformer forward pass, tokenizer, chat template,
//! pair compatibility, the catalog and fetching.

pub mod error;
pub use error::{ModelsError, Result};
mod accelerated;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod detok;
pub mod device;
pub mod download;
pub mod fetch;
pub mod gguf;
pub mod gguf_meta;
pub mod hub_cache;
pub mod inspect;
pub mod library;
pub mod loaded;
pub mod obtain;
pub mod pair;
pub mod recommend;
pub mod runner;
pub mod shortlist;
pub mod stop;
pub mod template;
pub mod tokenizer;
pub mod transformer;
pub use catalog::{Catalog, CatalogModel, CatalogPair, Mirror};
pub use detok::{token_piece, TokenStream};
pub use device::{DeviceChoice, DeviceInfo};
pub use fetch::{fetch, FetchProgress, Fetcher};
pub use gguf::GgufFile;
pub use loaded::{LoadedModel, LoadedPair, PairDevices};
pub use pair::{check_pair, PairReport};
pub use runner::Runner;
pub use shortlist::Shortlist;
pub use stop::StopStrings;
pub use template::{ChatMessage, ChatTemplate};
pub use tokenizer::{SpecialTokens, TokenKind, Tokenizer};
pub use transformer::Transformer;

/// The CPU kernel family in use ("avx2", "scalar", …), for reports and benchmarks.
pub fn kernels_level() -> &'static str {
    tandem_kernels::simd_level()
}
