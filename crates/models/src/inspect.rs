//! What a GGUF file holds, checked against what Tandem can run: the test a file passes
//! before it is imported, and the facts the model list shows about it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::config::ModelConfig;
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// A GGUF file that Tandem can load: header valid, every tensor inside the file and of a
/// supported type, a supported architecture, a tokenizer and a chat template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// `general.name`, else the file name without `.gguf`.
    pub name: String,
    pub architecture: String,
    /// The tensor type holding most of the weights, e.g. "Q4_K".
    pub quantization: String,
    pub parameters: u64,
    pub layers: usize,
    pub context_length: usize,
    pub vocab_size: usize,
    pub size_bytes: u64,
    /// The model ships no chat template and ChatML is used instead.
    pub fallback_template: bool,
}

/// Opens and checks `path`. Errors say in plain words why the file cannot be used:
/// not GGUF, truncated, an architecture or tensor type Tandem cannot run, no tokenizer.
pub fn inspect(path: &Path) -> Result<ModelInfo> {
    let file = GgufFile::open(path)?;
    let config = ModelConfig::from_gguf(&file)?;
    let tokenizer = Tokenizer::from_content(file.content(), &path.display().to_string())?;
    let template = ChatTemplate::from_tokenizer(&tokenizer)?;
    let mut by_type: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut parameters = 0u64;
    for info in file.content().tensor_infos.values() {
        let elements = info.shape.elem_count() as u64;
        parameters += elements;
        if info.shape.dims().len() == 2 {
            *by_type.entry(crate::gguf::type_name(info.ggml_dtype)).or_default() += elements;
        }
    }
    let quantization = by_type.iter().max_by_key(|(_, n)| **n).map(|(t, _)| t.to_string()).unwrap_or_default();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = file.meta().opt_str("general.name")?.filter(|n| !n.trim().is_empty()).map_or(stem, str::to_string);
    Ok(ModelInfo {
        name,
        architecture: file.architecture()?.to_string(),
        quantization,
        parameters,
        layers: config.n_layer,
        context_length: config.context_length,
        vocab_size: tokenizer.vocab_size(),
        size_bytes: std::fs::metadata(path)?.len(),
        fallback_template: template.is_fallback(),
    })
}
