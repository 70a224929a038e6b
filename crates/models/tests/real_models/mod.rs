//! Finding the real model files for `real_` tests: in the model cache directory
//! (`TANDEM_MODELS_DIR`, else the user's cache), under their catalog ids.
#![allow(dead_code)] // each test binary uses part of this module

use std::path::PathBuf;

use tandem_models::cache::{model_path, models_dir};
use tandem_models::Tokenizer;

pub const QWEN_TARGET: &str = "qwen2.5-coder-1.5b-instruct";
pub const QWEN_DRAFT: &str = "qwen2.5-coder-0.5b-instruct";
pub const SMOLLM2: &str = "smollm2-135m-instruct";

/// The path of catalog model `id`; fails the test with instructions when it is missing.
pub fn real_model(id: &str) -> PathBuf {
    let dir = models_dir().expect("a model cache directory");
    let path = model_path(&dir, id);
    assert!(
        path.is_file(),
        "real-model test needs {} (missing): run `tandem models fetch {id}` or set TANDEM_MODELS_DIR to a folder holding {id}.gguf",
        path.display()
    );
    path
}

pub fn real_tokenizer(id: &str) -> Tokenizer {
    Tokenizer::from_path(&real_model(id)).expect("the model's tokenizer loads")
}
