//! GGUF models for Tandem: loading, the transformer forward pass, tokenizer, chat template,
//! pair compatibility, the catalog and fetching.

pub mod error;
pub use error::{ModelsError, Result};
pub mod cache;
pub mod catalog;
pub mod detok;
pub mod fetch;
pub mod gguf_meta;
pub mod pair;
pub mod template;
pub mod tokenizer;
pub use catalog::{Catalog, CatalogModel, CatalogPair, Mirror};
pub use detok::{token_piece, TokenStream};
pub use fetch::{fetch, FetchProgress, Fetcher};
pub use pair::{check_pair, PairReport};
pub use template::{ChatMessage, ChatTemplate};
pub use tokenizer::{SpecialTokens, TokenKind, Tokenizer};
