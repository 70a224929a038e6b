//! Hyper-parameters of a decoder-only transformer, read from GGUF metadata.

use crate::error::{ModelsError, Result};
use crate::gguf::GgufFile;

/// The architectures whose forward pass we implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Qwen2 / Qwen2.5: biases on q/k/v, NeoX-style rotary embedding.
    Qwen2,
    /// Llama family (Llama 2/3, SmolLM): no biases, interleaved rotary embedding
    /// (GGUF conversion permutes q/k for it).
    Llama,
}

/// How rotary embedding pairs up the dimensions of a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs (i, i + head_dim/2).
    Neox,
    /// Pairs (2i, 2i + 1).
    Interleaved,
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub arch: Arch,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub rope_theta: f32,
    pub rope_style: RopeStyle,
    pub rms_eps: f32,
    pub context_length: usize,
}

impl ModelConfig {
    pub fn from_gguf(file: &GgufFile) -> Result<ModelConfig> {
        let meta = file.meta();
        let arch_name = file.architecture()?;
        let (arch, rope_style) = match arch_name {
            "qwen2" => (Arch::Qwen2, RopeStyle::Neox),
            "llama" => (Arch::Llama, RopeStyle::Interleaved),
            other => {
                return Err(ModelsError::Unsupported(format!(
                    "{}: the `{other}` architecture is not supported yet (Tandem runs qwen2 and llama models)",
                    file.path().display()
                )))
            }
        };
        let key = |k: &str| format!("{arch_name}.{k}");
        let n_embd = meta.usize(&key("embedding_length"))?;
        let n_head = meta.usize(&key("attention.head_count"))?;
        let n_kv_head = meta.opt_usize(&key("attention.head_count_kv"))?.unwrap_or(n_head);
        let head_dim = meta.opt_usize(&key("attention.key_length"))?.unwrap_or(n_embd / n_head.max(1));
        let config = ModelConfig {
            arch,
            n_layer: meta.usize(&key("block_count"))?,
            n_embd,
            n_ff: meta.usize(&key("feed_forward_length"))?,
            n_head,
            n_kv_head,
            head_dim,
            rope_theta: meta.opt_f32(&key("rope.freq_base"))?.unwrap_or(10_000.0),
            rope_style,
            rms_eps: meta.opt_f32(&key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-6),
            context_length: meta.opt_usize(&key("context_length"))?.unwrap_or(4096),
        };
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &GgufFile) -> Result<()> {
        let ok = self.n_head > 0
            && self.n_kv_head > 0
            && self.n_head.is_multiple_of(self.n_kv_head)
            && self.head_dim.is_multiple_of(2)
            && self.n_head * self.head_dim == self.n_embd
            && self.n_layer > 0;
        if ok {
            Ok(())
        } else {
            Err(ModelsError::BadFile {
                path: file.path().display().to_string(),
                reason: format!("inconsistent attention shape in the metadata: {self:?}"),
            })
        }
    }
}
