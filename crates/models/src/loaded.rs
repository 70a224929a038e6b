//! Models ready to generate with: weights, tokenizer and chat template together, and pairs
//! whose compatibility was checked (and whose devices were chosen) before any weights were
//! loaded.

use std::path::{Path, PathBuf};

use crate::cache;
use crate::device::{self, DeviceChoice, Placement};
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::pair::{check_pair, output_rows, PairReport};
use crate::runner::Runner;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// One model: its forward pass plus the text side (tokenizer, chat template).
pub struct LoadedModel {
    pub path: PathBuf,
    pub transformer: Runner,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
}

impl LoadedModel {
    /// Loads a catalog id or a GGUF path on the processor.
    pub fn load(spec: &str, max_context: Option<usize>) -> Result<LoadedModel> {
        LoadedModel::load_path(&cache::resolve(spec)?, max_context)
    }

    /// Loads a GGUF file on the processor.
    pub fn load_path(path: &Path, max_context: Option<usize>) -> Result<LoadedModel> {
        LoadedModel::load_on(path, DeviceChoice::Cpu, max_context).map(|(m, _)| m)
    }

    /// Loads a GGUF file on `device` (`Auto`: a GPU when one has room), checking a GPU's
    /// free memory first.
    pub fn load_on(path: &Path, device: DeviceChoice, max_context: Option<usize>) -> Result<(LoadedModel, Placement)> {
        let file = GgufFile::open(path)?;
        let placement =
            device::place(device::device_bytes(&file)?, None, device, DeviceChoice::Auto, &listed(&[device]))?;
        let tokenizer = Tokenizer::from_content(file.content(), &path.display().to_string())?;
        let template = ChatTemplate::from_tokenizer(&tokenizer)?;
        let transformer = Runner::load(&file, placement.target, max_context)?;
        Ok((LoadedModel { path: path.to_path_buf(), transformer, tokenizer, template }, placement))
    }
}

/// Which devices a pair should run on (each `Auto` by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairDevices {
    pub target: DeviceChoice,
    pub draft: DeviceChoice,
}

/// A target with an optional draft model.
pub struct LoadedPair {
    pub target: LoadedModel,
    pub draft: Option<Runner>,
    /// How the draft's vocabulary relates to the target's (present with a draft).
    pub report: Option<PairReport>,
    /// Where each model runs, and why when it was chosen automatically.
    pub placement: Placement,
}

impl LoadedPair {
    /// Loads `target` and, if given, `draft`. The pair is checked from the two files'
    /// headers first, so an incompatible draft is refused in well under a second with a
    /// plain-language reason, before gigabytes of weights are touched; devices are chosen,
    /// or a GPU without room refused, from the headers too.
    pub fn load(
        target: &str,
        draft: Option<&str>,
        devices: PairDevices,
        max_context: Option<usize>,
    ) -> Result<LoadedPair> {
        let target_path = cache::resolve(target)?;
        let Some(draft) = draft else {
            let (model, placement) = LoadedModel::load_on(&target_path, devices.target, max_context)?;
            return Ok(LoadedPair { target: model, draft: None, report: None, placement });
        };
        let draft_path = cache::resolve(draft)?;
        let target_file = GgufFile::open(&target_path)?;
        let draft_file = GgufFile::open(&draft_path)?;
        let target_tok = Tokenizer::from_content(target_file.content(), &target_path.display().to_string())?;
        let draft_tok = Tokenizer::from_content(draft_file.content(), &draft_path.display().to_string())?;
        let report = check_pair(&target_tok, output_rows(&target_file)?, &draft_tok, output_rows(&draft_file)?)?;
        let template = ChatTemplate::from_tokenizer(&target_tok)?;
        let placement = device::place(
            device::device_bytes(&target_file)?,
            Some(device::device_bytes(&draft_file)?),
            devices.target,
            devices.draft,
            &listed(&[devices.target, devices.draft]),
        )?;
        // The draft first: it is the smaller one, so a device problem shows up sooner.
        let draft_model = Runner::load_draft(&draft_file, placement.draft.expect("placed with a draft"), max_context)?;
        let target_model = Runner::load(&target_file, placement.target, max_context)?;
        Ok(LoadedPair {
            target: LoadedModel { path: target_path, transformer: target_model, tokenizer: target_tok, template },
            draft: Some(draft_model),
            report: Some(report),
            placement,
        })
    }
}

/// The devices to place on. Listing GPUs asks their drivers, so only when one could be used.
fn listed(wanted: &[DeviceChoice]) -> Vec<device::DeviceInfo> {
    if wanted.iter().all(|d| *d == DeviceChoice::Cpu) {
        Vec::new()
    } else {
        device::devices()
    }
}
