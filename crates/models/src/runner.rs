//! A model loaded on the device it runs on: the processor with Tandem's own row-exact
//! kernels, or a GPU through candle. Both are the engine's [`Model`].

use tandem_engine::{Logits, LogitsWanted, Model, ModelError, TokenId};

use crate::accelerated::AcceleratedTransformer;
use crate::config::ModelConfig;
use crate::device::{self, DeviceChoice};
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::transformer::Transformer;

pub enum Runner {
    Cpu(Transformer),
    Accelerated(AcceleratedTransformer),
}

impl Runner {
    /// Loads `file` on `device` (`Auto` means the processor here; choosing between devices
    /// is [`device::place`]'s job, before loading).
    pub fn load(file: &GgufFile, device: DeviceChoice, max_context: Option<usize>) -> Result<Runner> {
        if device.is_gpu() {
            let handle = device::open(device)?;
            Ok(Runner::Accelerated(AcceleratedTransformer::load(file, &handle, &device.to_string(), max_context)?))
        } else {
            Ok(Runner::Cpu(Transformer::load(file, max_context)?))
        }
    }

    /// Loads a model that only drafts: as [`Runner::load`], but on the processor with the
    /// re-encoding of [`Transformer::load_as_draft`].
    pub fn load_draft(file: &GgufFile, device: DeviceChoice, max_context: Option<usize>) -> Result<Runner> {
        if device.is_gpu() {
            Runner::load(file, device, max_context)
        } else {
            Ok(Runner::Cpu(Transformer::load_as_draft(file, max_context)?))
        }
    }

    /// candle's CPU backend through the accelerated code path: how that path is tested on
    /// machines without a GPU.
    pub fn load_candle_cpu(file: &GgufFile, max_context: Option<usize>) -> Result<Runner> {
        let handle = candle_core::Device::Cpu;
        Ok(Runner::Accelerated(AcceleratedTransformer::load(file, &handle, "candle's processor backend", max_context)?))
    }

    /// Where it runs, for people: "the processor", "CUDA 0".
    pub fn device_name(&self) -> String {
        match self {
            Runner::Cpu(_) => DeviceChoice::Cpu.to_string(),
            Runner::Accelerated(m) => m.device_name().to_string(),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        match self {
            Runner::Cpu(m) => m.config(),
            Runner::Accelerated(m) => m.config(),
        }
    }

    fn model(&self) -> &dyn Model {
        match self {
            Runner::Cpu(m) => m,
            Runner::Accelerated(m) => m,
        }
    }

    fn model_mut(&mut self) -> &mut dyn Model {
        match self {
            Runner::Cpu(m) => m,
            Runner::Accelerated(m) => m,
        }
    }
}

impl Model for Runner {
    fn vocab_size(&self) -> usize {
        self.model().vocab_size()
    }
    fn max_context(&self) -> usize {
        self.model().max_context()
    }
    fn cached_len(&self) -> usize {
        self.model().cached_len()
    }
    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> std::result::Result<Logits, ModelError> {
        self.model_mut().forward(tokens, wanted)
    }
    fn truncate(&mut self, len: usize) {
        self.model_mut().truncate(len)
    }
    fn exact_rows(&self) -> usize {
        self.model().exact_rows()
    }
}
