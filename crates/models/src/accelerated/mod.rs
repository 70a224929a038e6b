//! The transformer of [`crate::transformer`] on a candle device: CUDA on NVIDIA cards, Metal
//! on Macs, or candle's own CPU backend, which is how this code is tested on machines
//! without a GPU.
//!
//! Matrix products use candle's quantized kernels; norms, rotary embedding, attention and
//! SwiGLU are candle tensor ops. The embedding table stays in the file's memory map on the
//! host: each call dequantizes its k rows there and uploads them, so the table costs no
//! device memory (unless the model ties it to the output layer).
//!
//! Row exactness is not ours to promise here, since a GPU library picks its reduction order
//! by batch width. What can be kept per row is: attention runs one query row at a time with
//! exactly the shapes a one-token call has, and every other step is elementwise or per row.
//! The quantized products are measured instead: [`probe::exact_rows`] finds, at load, the
//! widest call whose rows equal one-token calls bit for bit, and the model reports it
//! through [`Model::exact_rows`], so the generator never verifies wider than that.

mod kv;
mod probe;

use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Module, Tensor, D};
use tandem_engine::{Logits, LogitsWanted, Model, ModelError, TokenId};
use tandem_kernels::QMatrix;

use crate::config::{ModelConfig, RopeStyle};
use crate::error::{ModelsError, Result};
use crate::gguf::GgufFile;
use crate::transformer::{check_call, Rope};
use kv::DeviceKv;

struct Layer {
    attn_norm: Tensor,
    wq: QMatMul,
    wk: QMatMul,
    wv: QMatMul,
    bq: Option<Tensor>,
    bk: Option<Tensor>,
    bv: Option<Tensor>,
    wo: QMatMul,
    ffn_norm: Tensor,
    w_gate: QMatMul,
    w_up: QMatMul,
    w_down: QMatMul,
}

/// A model whose layers live on a candle device, with its KV cache there too.
pub struct AcceleratedTransformer {
    config: ModelConfig,
    device: Device,
    /// Shown in errors ("CUDA 0").
    device_name: String,
    embedding: QMatrix,
    layers: Vec<Layer>,
    output_norm: Tensor,
    output: QMatMul,
    vocab: usize,
    caches: Vec<DeviceKv>,
    rope: Rope,
    max_context: usize,
    /// Measured at load; see the module documentation.
    exact_rows: usize,
}

impl AcceleratedTransformer {
    /// Uploads the model in `file` to `device`. `max_context` caps the model's own context.
    pub fn load(file: &GgufFile, device: &Device, device_name: &str, max_context: Option<usize>) -> Result<Self> {
        let config = ModelConfig::from_gguf(file)?;
        let failed = |e: candle_core::Error| ModelsError::Device {
            device: device_name.to_string(),
            message: format!("could not load {}: {e}", file.path().display()),
        };
        let vector = |name: &str| -> Result<Tensor> {
            let v = file.vector(name)?;
            let n = v.len();
            Tensor::from_vec(v, n, device).map_err(failed)
        };
        let bias = |name: &str| -> Result<Option<Tensor>> {
            if file.has_tensor(name) {
                vector(name).map(Some)
            } else {
                Ok(None)
            }
        };
        let matrix = |name: &str| -> Result<QMatMul> {
            file.qtensor(name, device, device_name).and_then(|t| QMatMul::from_qtensor(t).map_err(failed))
        };
        let embedding = file.matrix("token_embd.weight")?;
        let output_name = if file.has_tensor("output.weight") { "output.weight" } else { "token_embd.weight" };
        let output = matrix(output_name)?;
        let vocab = file.matrix(output_name)?.rows();
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let name = |t: &str| format!("blk.{i}.{t}");
            layers.push(Layer {
                attn_norm: vector(&name("attn_norm.weight"))?,
                wq: matrix(&name("attn_q.weight"))?,
                wk: matrix(&name("attn_k.weight"))?,
                wv: matrix(&name("attn_v.weight"))?,
                bq: bias(&name("attn_q.bias"))?,
                bk: bias(&name("attn_k.bias"))?,
                bv: bias(&name("attn_v.bias"))?,
                wo: matrix(&name("attn_output.weight"))?,
                ffn_norm: vector(&name("ffn_norm.weight"))?,
                w_gate: matrix(&name("ffn_gate.weight"))?,
                w_up: matrix(&name("ffn_up.weight"))?,
                w_down: matrix(&name("ffn_down.weight"))?,
            });
        }
        let freq_factors =
            if file.has_tensor("rope_freqs.weight") { Some(file.vector("rope_freqs.weight")?) } else { None };
        let max_context = max_context.map_or(config.context_length, |m| m.min(config.context_length));
        let caches = (0..config.n_layer).map(|_| DeviceKv::new(config.n_kv_head, config.head_dim)).collect();
        let mut model = AcceleratedTransformer {
            device: device.clone(),
            device_name: device_name.to_string(),
            embedding,
            output_norm: vector("output_norm.weight")?,
            output,
            vocab,
            caches,
            rope: Rope::new(config.rope_style, config.head_dim, config.rope_theta, freq_factors.as_deref()),
            max_context,
            exact_rows: 1,
            layers,
            config,
        };
        let widest = probe::WIDEST.min(max_context.saturating_sub(1));
        model.exact_rows = probe::exact_rows(&mut model, widest).map_err(|e| ModelsError::Device {
            device: device_name.to_string(),
            message: format!("the first test run of {} failed: {e}", file.path().display()),
        })?;
        Ok(model)
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device, as shown to people ("CUDA 0").
    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    fn run(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> candle_core::Result<Logits> {
        let c = &self.config;
        let (k, d) = (tokens.len(), c.n_embd);
        let (hd, n_head, n_kv) = (c.head_dim, c.n_head, c.n_kv_head);
        let first_pos = self.cached_len();
        self.rope.ensure(first_pos + k);

        let mut host = vec![0f32; k * d];
        for (row, &t) in host.chunks_exact_mut(d).zip(tokens) {
            self.embedding.dequantize_row(t as usize, row);
        }
        let mut x = Tensor::from_vec(host, (k, d), &self.device)?;
        let (cos, sin) = self.rope.table(first_pos, k);
        let cos = Tensor::from_slice(cos, (k, 1, hd / 2), &self.device)?;
        let sin = Tensor::from_slice(sin, (k, 1, hd / 2), &self.device)?;
        let scale = 1.0 / (hd as f64).sqrt();
        for (layer, cache) in self.layers.iter().zip(self.caches.iter_mut()) {
            let h = rms_norm(&x, &layer.attn_norm, c.rms_eps)?;
            let q = add_bias(layer.wq.forward(&h)?, layer.bq.as_ref())?.reshape((k, n_head, hd))?;
            let kk = add_bias(layer.wk.forward(&h)?, layer.bk.as_ref())?.reshape((k, n_kv, hd))?;
            let vv = add_bias(layer.wv.forward(&h)?, layer.bv.as_ref())?.reshape((k, n_kv, hd))?;
            let q = rotate(&q, &cos, &sin, c.rope_style)?;
            let kk = rotate(&kk, &cos, &sin, c.rope_style)?;
            cache.push(&kk, &vv, &self.device)?;
            let mut rows = Vec::with_capacity(k);
            for i in 0..k {
                // (n_kv, group, hd): the query heads that share each KV head, no copies of K/V.
                let qi = q.get(i)?.reshape((n_kv, n_head / n_kv, hd))?;
                let (keys, values) = cache.upto(first_pos + i + 1)?;
                let scores = (qi.matmul(&keys.t()?)? * scale)?;
                let max = scores.max_keepdim(D::Minus1)?;
                let e = scores.broadcast_sub(&max)?.exp()?;
                let p = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
                rows.push(p.matmul(&values)?.reshape((1, d))?);
            }
            let att = Tensor::cat(&rows, 0)?;
            x = (x + layer.wo.forward(&att)?)?;
            let h = rms_norm(&x, &layer.ffn_norm, c.rms_eps)?;
            let g = (layer.w_gate.forward(&h)?.silu()? * layer.w_up.forward(&h)?)?;
            x = (x + layer.w_down.forward(&g)?)?;
        }
        let picked = match wanted {
            LogitsWanted::All => x,
            LogitsWanted::Last => x.narrow(0, k - 1, 1)?,
        };
        let rows = picked.dim(0)?;
        let logits = self.output.forward(&rms_norm(&picked, &self.output_norm, c.rms_eps)?)?;
        let data = logits.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        Ok(Logits { rows, vocab: self.vocab, data })
    }
}

impl Model for AcceleratedTransformer {
    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn max_context(&self) -> usize {
        self.max_context
    }

    fn cached_len(&self) -> usize {
        self.caches[0].len()
    }

    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> std::result::Result<Logits, ModelError> {
        check_call(tokens, self.cached_len(), self.max_context, self.embedding.rows())?;
        let start = self.cached_len();
        self.run(tokens, wanted).map_err(|e| {
            // A half-written step must not stay in the cache.
            self.truncate(start);
            ModelError::Other(format!("{} failed: {e}", self.device_name))
        })
    }

    fn truncate(&mut self, len: usize) {
        for cache in &mut self.caches {
            cache.truncate(len);
        }
    }

    fn exact_rows(&self) -> usize {
        self.exact_rows
    }
}

/// Per-row RMS normalisation of a `(rows, d)` tensor.
fn rms_norm(x: &Tensor, weight: &Tensor, eps: f32) -> candle_core::Result<Tensor> {
    let mean_sq = x.sqr()?.mean_keepdim(D::Minus1)?;
    x.broadcast_div(&(mean_sq + eps as f64)?.sqrt()?)?.broadcast_mul(weight)
}

fn add_bias(x: Tensor, bias: Option<&Tensor>) -> candle_core::Result<Tensor> {
    match bias {
        Some(b) => x.broadcast_add(b),
        None => Ok(x),
    }
}

/// Rotary embedding of `x` `(rows, heads, head_dim)` with `cos`/`sin` `(rows, 1, head_dim/2)`,
/// pairing dimensions as `style` says (see [`RopeStyle`]).
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor, style: RopeStyle) -> candle_core::Result<Tensor> {
    let (rows, heads, hd) = x.dims3()?;
    let half = hd / 2;
    let turn = |a: &Tensor, b: &Tensor, cos: &Tensor, sin: &Tensor| -> candle_core::Result<(Tensor, Tensor)> {
        let ra = (a.broadcast_mul(cos)? - b.broadcast_mul(sin)?)?;
        let rb = (a.broadcast_mul(sin)? + b.broadcast_mul(cos)?)?;
        Ok((ra, rb))
    };
    match style {
        RopeStyle::Neox => {
            let (a, b) = turn(&x.narrow(2, 0, half)?, &x.narrow(2, half, half)?, cos, sin)?;
            Tensor::cat(&[a, b], 2)
        }
        RopeStyle::Interleaved => {
            let pairs = x.reshape((rows, heads, half, 2))?;
            let (cos, sin) = (cos.unsqueeze(3)?, sin.unsqueeze(3)?);
            let (a, b) = turn(&pairs.narrow(3, 0, 1)?, &pairs.narrow(3, 1, 1)?, &cos, &sin)?;
            Tensor::cat(&[a, b], 3)?.reshape((rows, heads, hd))
        }
    }
}
