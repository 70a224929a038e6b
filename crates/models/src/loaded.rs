//! Models ready to generate with: weights, tokenizer and chat template together, and pairs
//! whose compatibility was checked before any weights were loaded.

use std::path::{Path, PathBuf};

use crate::cache;
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::pair::{check_pair, output_rows, PairReport};
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;
use crate::transformer::Transformer;

/// One model: its forward pass plus the text side (tokenizer, chat template).
pub struct LoadedModel {
    pub path: PathBuf,
    pub transformer: Transformer,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
}

impl LoadedModel {
    /// Loads a catalog id or a GGUF path.
    pub fn load(spec: &str, max_context: Option<usize>) -> Result<LoadedModel> {
        LoadedModel::load_path(&cache::resolve(spec)?, max_context)
    }

    pub fn load_path(path: &Path, max_context: Option<usize>) -> Result<LoadedModel> {
        let file = GgufFile::open(path)?;
        let tokenizer = Tokenizer::from_content(file.content(), &path.display().to_string())?;
        let template = ChatTemplate::from_tokenizer(&tokenizer)?;
        let transformer = Transformer::load(&file, max_context)?;
        Ok(LoadedModel { path: path.to_path_buf(), transformer, tokenizer, template })
    }
}

/// A target with an optional draft model.
pub struct LoadedPair {
    pub target: LoadedModel,
    pub draft: Option<Transformer>,
    /// How the draft's vocabulary relates to the target's (present with a draft).
    pub report: Option<PairReport>,
}

impl LoadedPair {
    /// Loads `target` and, if given, `draft`. The pair is checked from the two files'
    /// headers first, so an incompatible draft is refused in well under a second with a
    /// plain-language reason, before gigabytes of weights are touched.
    pub fn load(target: &str, draft: Option<&str>, max_context: Option<usize>) -> Result<LoadedPair> {
        let target_path = cache::resolve(target)?;
        let Some(draft) = draft else {
            return Ok(LoadedPair {
                target: LoadedModel::load_path(&target_path, max_context)?,
                draft: None,
                report: None,
            });
        };
        let draft_path = cache::resolve(draft)?;
        let target_file = GgufFile::open(&target_path)?;
        let draft_file = GgufFile::open(&draft_path)?;
        let target_tok = Tokenizer::from_content(target_file.content(), &target_path.display().to_string())?;
        let draft_tok = Tokenizer::from_content(draft_file.content(), &draft_path.display().to_string())?;
        let report = check_pair(&target_tok, output_rows(&target_file)?, &draft_tok, output_rows(&draft_file)?)?;
        let template = ChatTemplate::from_tokenizer(&target_tok)?;
        let target_model = Transformer::load(&target_file, max_context)?;
        let draft_model = Transformer::load(&draft_file, max_context)?;
        Ok(LoadedPair {
            target: LoadedModel { path: target_path, transformer: target_model, tokenizer: target_tok, template },
            draft: Some(draft_model),
            report: Some(report),
        })
    }
}
