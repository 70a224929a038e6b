//! The decoder-only transformer forward pass on the CPU, for the `qwen2` and `llama` GGUF
//! architectures, implementing the engine's [`Model`] trait.
//!
//! We own this code (rather than using candle's stock quantized models) because speculative
//! decoding needs three things those lack: logits for every position of a call, a KV cache
//! that can be truncated, and row exactness — every row of a k-token call computed exactly
//! as a 1-token call would compute it. Each step here is either per-row by construction
//! (embedding, RMS norm, rotary embedding, attention, SwiGLU) or a [`QMatrix::matmul`],
//! which is row-exact by its own contract.

mod attention;
mod head;
mod kv_cache;
mod projections;
mod rope;

use tandem_engine::{Logits, LogitsWanted, Model, ModelError, TokenId};
use tandem_kernels::{silu_mul_f32, Layout, QMatrix, QType, SimdLevel};

use crate::config::{Arch, ModelConfig};
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::shortlist::Shortlist;
use attention::{attend, AttentionShape};
use head::Head;
use kv_cache::LayerCache;
use projections::Projections;
pub(crate) use rope::Rope;

/// Most tokens one pass of the layers takes. A long prompt (a document) is read in pieces
/// of this many: its working buffers then stay a few MiB instead of hundreds (each layer's
/// gate and up outputs alone were 170 MiB for 2,500 tokens), and the pieces' outputs stay
/// in cache between the matrix multiplies. Reading a 2,500-token document into the default
/// pair took 13% less time, and about 250 MiB less memory at its peak.
const PIECE: usize = 128;

struct Layer {
    attn_norm: Vec<f32>,
    /// Query, key and value.
    qkv: Projections,
    bq: Option<Vec<f32>>,
    bk: Option<Vec<f32>>,
    bv: Option<Vec<f32>>,
    wo: QMatrix,
    ffn_norm: Vec<f32>,
    /// Gate and up.
    gate_up: Projections,
    w_down: QMatrix,
}

/// A loaded model with its KV cache.
pub struct Transformer {
    config: ModelConfig,
    embedding: QMatrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    /// The output head; for models with tied embeddings this is the embedding matrix.
    head: Head,
    caches: Vec<LayerCache>,
    rope: Rope,
    max_context: usize,
}

impl Transformer {
    /// Builds the model from an opened GGUF file. Weights stay in the file's memory map,
    /// except Q4_K, Q6_K, Q4_0, Q5_0 and Q8_0 matrices when the AVX-512 VNNI kernels run: those are
    /// rearranged for those kernels on the heap (every weight keeps its value; products agree
    /// with the file's order to float rounding, see `QMatrix::repacked`) and their pages in
    /// the map are released. `max_context` caps the model's own context
    /// length (KV memory grows with use, up to it).
    pub fn load(file: &GgufFile, max_context: Option<usize>) -> Result<Transformer> {
        Transformer::build(file, max_context, false, None)
    }

    /// Loads a model that only drafts. Its output head (a vocabulary's worth of rows: 40% of
    /// a Qwen2.5 0.5B draft's bytes per token in Q8_0) is re-encoded as Q4_0 when it is
    /// wider, because drafting one token is bound by the bytes it reads; a coarser head can
    /// only change which tokens the draft proposes, never the answer, which the target
    /// verifies. Where Q5_0 has no fast kernel form of its own (no
    /// AVX-512 VNNI, or rows not a multiple of sixteen), its Q5_0 layer matrices are widened
    /// to Q8_0 at load, exactly (every weight keeps its value), because Q8_0's kernel does
    /// less work per weight: about 10% off a Qwen2.5 0.5B draft's time per token (mostly
    /// Q5_0), for 55% more memory for those matrices, which then live on the heap instead of
    /// the file's map. Only a draft is widened; a target always runs on the file's own
    /// encoding ([`Transformer::load`]), so its logits stay exactly what they are.
    ///
    /// A draft whose vocabulary has a built-in [`Shortlist`] computes only the shortlist's
    /// output rows.
    pub fn load_as_draft(file: &GgufFile, max_context: Option<usize>) -> Result<Transformer> {
        let tokens = file.meta().strings("tokenizer.ggml.tokens").ok();
        let shortlist = tokens.and_then(|t| Shortlist::builtin_for(&t));
        Transformer::load_as_draft_with(file, max_context, shortlist)
    }

    /// [`Transformer::load_as_draft`] with the given shortlist, or the whole vocabulary. A
    /// shortlist for a vocabulary of another size is not used.
    pub fn load_as_draft_with(
        file: &GgufFile,
        max_context: Option<usize>,
        shortlist: Option<Shortlist>,
    ) -> Result<Transformer> {
        Transformer::build(file, max_context, true, shortlist)
    }

    fn build(
        file: &GgufFile,
        max_context: Option<usize>,
        reencode: bool,
        shortlist: Option<Shortlist>,
    ) -> Result<Transformer> {
        let config = ModelConfig::from_gguf(file)?;
        let level = SimdLevel::active();
        // A matrix the kernels read in another form (re-encoded, or rearranged for this
        // CPU's kernels) is made once, here, from the file's blocks, and its pages in the
        // file's map are released.
        let encoded = |name: &str, stored: &QMatrix, reencode_as: Option<QType>| -> Result<QMatrix> {
            match reencode_as {
                Some(to) => stored.requantize(to).map_err(|e| file.meta().bad(format!("tensor `{name}`: {e}"))),
                None => Ok(stored.clone()),
            }
        };
        let prepared = |name: &str, stored: QMatrix, reencode_as: Option<QType>| -> Result<QMatrix> {
            let m = encoded(name, &stored, reencode_as)?.repacked(level);
            if (m.qtype(), m.layout()) != (stored.qtype(), stored.layout()) {
                file.release(name);
            }
            Ok(m)
        };
        // A draft's Q5_0 layers are widened only where Q5_0 has no fast form of its own.
        let widen = |stored: &QMatrix| {
            let widen = reencode && stored.qtype() == QType::Q5_0 && stored.fastest_layout(level) == Layout::Gguf;
            widen.then_some(QType::Q8_0)
        };
        let layer_matrix = |name: &str| {
            let stored = file.matrix(name)?;
            let to = widen(&stored);
            prepared(name, stored, to)
        };
        let embedding = file.matrix("token_embd.weight")?;
        let head_name = if file.has_tensor("output.weight") { "output.weight" } else { "token_embd.weight" };
        // A draft's head is narrowed when it has more bytes per weight than Q4_0
        // (cross-multiplied block sizes).
        let stored = file.matrix(head_name)?;
        let (t, q4) = (stored.qtype(), QType::Q4_0);
        let narrow = (reencode && t.block_bytes() * q4.block_size() > q4.block_bytes() * t.block_size()).then_some(q4);
        let head = match shortlist.filter(|s| s.size() == stored.rows()) {
            Some(s) => {
                let rows = encoded(head_name, &s.rows_of(&stored), narrow)?.repacked(level);
                file.release(head_name);
                Head::shortlisted(rows, s, stored, narrow)
            }
            None => Head::Full(prepared(head_name, stored, narrow)?),
        };
        let mut layers = Vec::with_capacity(config.n_layer);
        // Matrices of one input (a layer's query, key and value; its gate and up) share a
        // multiply where their encodings match. A part widened or copied into a stack is no
        // longer read from the map.
        let projections = |names: &[String]| -> Result<Projections> {
            let mut parts = Vec::with_capacity(names.len());
            let mut widened = Vec::with_capacity(names.len());
            for name in names {
                let stored = file.matrix(name)?;
                let to = widen(&stored);
                widened.push(to.is_some());
                parts.push(encoded(name, &stored, to)?);
            }
            let (projections, copied) = Projections::new(&parts, level);
            for ((name, widened), copied) in names.iter().zip(widened).zip(copied) {
                if widened || copied {
                    file.release(name);
                }
            }
            Ok(projections)
        };
        for i in 0..config.n_layer {
            let name = |t: &str| format!("blk.{i}.{t}");
            let bias = |t: &str| -> Result<Option<Vec<f32>>> {
                let n = name(t);
                if file.has_tensor(&n) {
                    file.vector(&n).map(Some)
                } else {
                    Ok(None)
                }
            };
            layers.push(Layer {
                attn_norm: file.vector(&name("attn_norm.weight"))?,
                qkv: projections(&[name("attn_q.weight"), name("attn_k.weight"), name("attn_v.weight")])?,
                bq: bias("attn_q.bias")?,
                bk: bias("attn_k.bias")?,
                bv: bias("attn_v.bias")?,
                wo: layer_matrix(&name("attn_output.weight"))?,
                ffn_norm: file.vector(&name("ffn_norm.weight"))?,
                gate_up: projections(&[name("ffn_gate.weight"), name("ffn_up.weight")])?,
                w_down: layer_matrix(&name("ffn_down.weight"))?,
            });
        }
        let freq_factors = if file.has_tensor("rope_freqs.weight") {
            let ff = file.vector("rope_freqs.weight")?;
            if ff.len() != config.head_dim / 2 || ff.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
                return Err(file.meta().bad(format!(
                    "rope_freqs.weight has {} entries, expected {} positive ones",
                    ff.len(),
                    config.head_dim / 2
                )));
            }
            Some(ff)
        } else {
            None
        };
        let model = Transformer {
            embedding,
            output_norm: file.vector("output_norm.weight")?,
            head,
            caches: (0..config.n_layer).map(|_| LayerCache::new(config.n_kv_head, config.head_dim)).collect(),
            rope: Rope::new(config.rope_style, config.head_dim, config.rope_theta, freq_factors.as_deref()),
            max_context: max_context.map_or(config.context_length, |m| m.min(config.context_length)),
            layers,
            config,
        };
        model.check_shapes(file)?;
        Ok(model)
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Bytes of weights this model reads per generated token (matrices only).
    pub fn weight_bytes(&self) -> usize {
        let per_layer: usize = self
            .layers
            .iter()
            .map(|l| {
                l.qkv.byte_len() + l.gate_up.byte_len() + [&l.wo, &l.w_down].iter().map(|m| m.byte_len()).sum::<usize>()
            })
            .sum();
        per_layer + self.head.rows().byte_len()
    }

    fn check_shapes(&self, file: &GgufFile) -> Result<()> {
        let c = &self.config;
        let kv = c.n_kv_head * c.head_dim;
        let mut problems = Vec::new();
        let expect = |problems: &mut Vec<String>, what: String, m: &QMatrix, rows: usize, cols: usize| {
            if m.rows() != rows || m.cols() != cols {
                problems.push(format!("{what} is {}x{}, expected {rows}x{cols}", m.rows(), m.cols()));
            }
        };
        let (vocab, head) = (self.head.vocab(), self.head.rows());
        expect(&mut problems, "token_embd".into(), &self.embedding, vocab, c.n_embd);
        expect(&mut problems, "output".into(), head, head.rows(), c.n_embd);
        for (i, l) in self.layers.iter().enumerate() {
            let parts = |problems: &mut Vec<String>, what: &str, p: &Projections, rows: &[usize]| {
                let expected: Vec<(usize, usize)> = rows.iter().map(|&r| (r, c.n_embd)).collect();
                if p.shapes() != expected {
                    problems
                        .push(format!("blk.{i}.{what} are {:?} (rows, columns), expected {expected:?}", p.shapes()));
                }
            };
            parts(&mut problems, "attn_q/k/v", &l.qkv, &[c.n_embd, kv, kv]);
            expect(&mut problems, format!("blk.{i}.attn_output"), &l.wo, c.n_embd, c.n_embd);
            parts(&mut problems, "ffn_gate/up", &l.gate_up, &[c.n_ff, c.n_ff]);
            expect(&mut problems, format!("blk.{i}.ffn_down"), &l.w_down, c.n_embd, c.n_ff);
            let vec_ok = l.attn_norm.len() == c.n_embd
                && l.ffn_norm.len() == c.n_embd
                && l.bq.as_ref().is_none_or(|b| b.len() == c.n_embd)
                && l.bk.as_ref().is_none_or(|b| b.len() == kv)
                && l.bv.as_ref().is_none_or(|b| b.len() == kv);
            if !vec_ok {
                problems.push(format!("blk.{i} has a norm or bias of the wrong length"));
            }
        }
        if self.output_norm.len() != c.n_embd {
            problems.push("output_norm has the wrong length".into());
        }
        if c.arch == Arch::Qwen2 && self.layers.iter().any(|l| l.bq.is_none()) {
            problems.push("a qwen2 model must have attention biases".into());
        }
        match problems.first() {
            None => Ok(()),
            Some(p) => Err(crate::error::ModelsError::BadFile {
                path: file.path().display().to_string(),
                reason: format!("tensor shapes do not match the metadata: {p}"),
            }),
        }
    }

    /// [`Transformer::run`] over at most [`PIECE`] tokens at a time, the logits of the
    /// pieces joined. Every row is computed as it would be in any other call, so the
    /// logits are the same bits as one pass over all the tokens.
    fn run_in_pieces(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Logits {
        let mut pieces = tokens.chunks(PIECE);
        let last = pieces.next_back().expect("a forward call has tokens");
        let mut earlier: Option<Logits> = None;
        for piece in pieces {
            let part = self.run(piece, wanted);
            if wanted == LogitsWanted::All {
                let joined = earlier.get_or_insert(Logits { rows: 0, vocab: part.vocab, data: Vec::new() });
                joined.rows += part.rows;
                joined.data.extend_from_slice(&part.data);
            }
        }
        let part = self.run(last, wanted);
        match earlier {
            None => part,
            Some(mut joined) => {
                joined.rows += part.rows;
                joined.data.extend_from_slice(&part.data);
                joined
            }
        }
    }

    /// The forward pass proper: `tokens` at positions `cached_len()..`.
    fn run(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Logits {
        let c = &self.config;
        let (k, d) = (tokens.len(), c.n_embd);
        let kv = c.n_kv_head * c.head_dim;
        let first_pos = self.cached_len();
        self.rope.ensure(first_pos + k);

        let mut x = vec![0f32; k * d];
        for (row, &t) in x.chunks_exact_mut(d).zip(tokens) {
            self.embedding.dequantize_row(t as usize, row);
        }
        let shape = AttentionShape { n_head: c.n_head, n_kv_head: c.n_kv_head, head_dim: c.head_dim };
        let mut h = vec![0f32; k * d];
        let mut q = vec![0f32; k * d];
        let mut kk = vec![0f32; k * kv];
        let mut vv = vec![0f32; k * kv];
        let mut att = vec![0f32; k * d];
        let mut proj = vec![0f32; k * d];
        let mut gate = vec![0f32; k * c.n_ff];
        let mut up = vec![0f32; k * c.n_ff];
        for (layer, cache) in self.layers.iter().zip(self.caches.iter_mut()) {
            rms_norm(&x, &layer.attn_norm, c.rms_eps, &mut h);
            layer.qkv.matmul(&h, &mut [&mut q, &mut kk, &mut vv]);
            add_bias(&mut q, layer.bq.as_deref());
            add_bias(&mut kk, layer.bk.as_deref());
            add_bias(&mut vv, layer.bv.as_deref());
            for i in 0..k {
                self.rope.apply(&mut q[i * d..(i + 1) * d], first_pos + i);
                self.rope.apply(&mut kk[i * kv..(i + 1) * kv], first_pos + i);
            }
            cache.push(&kk, &vv);
            attend(&shape, cache, &q, first_pos, &mut att);
            layer.wo.matmul(&att, &mut proj);
            add_in_place(&mut x, &proj);

            rms_norm(&x, &layer.ffn_norm, c.rms_eps, &mut h);
            layer.gate_up.matmul(&h, &mut [&mut gate, &mut up]);
            silu_mul_f32(&mut gate, &up);
            layer.w_down.matmul(&gate, &mut proj);
            add_in_place(&mut x, &proj);
        }

        let rows = match wanted {
            LogitsWanted::All => 0..k,
            LogitsWanted::Last => k - 1..k,
        };
        let picked = &x[rows.start * d..rows.end * d];
        let mut normed = vec![0f32; picked.len()];
        rms_norm(picked, &self.output_norm, c.rms_eps, &mut normed);
        let data = self.head.logits(&normed, first_pos + rows.start);
        Logits { rows: rows.len(), vocab: self.head.vocab(), data }
    }
}

impl Model for Transformer {
    fn vocab_size(&self) -> usize {
        self.head.vocab()
    }

    fn max_context(&self) -> usize {
        self.max_context
    }

    fn cached_len(&self) -> usize {
        self.caches[0].len()
    }

    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> std::result::Result<Logits, ModelError> {
        check_call(tokens, self.cached_len(), self.max_context, self.embedding.rows())?;
        if let Err(e) = self.head.note(tokens, self.cached_len()) {
            self.head.truncate(self.cached_len());
            return Err(ModelError::Other(e));
        }
        // The whole pass runs on a thread of the pool, so that its two hundred or so
        // parallel calls start from inside the pool. From any other thread each one is
        // handed in and waited for through a lock, and a profile of plain decoding showed
        // those wake-ups and yields in about a tenth of all samples.
        Ok(rayon::scope(|_| self.run_in_pieces(tokens, wanted)))
    }

    fn truncate(&mut self, len: usize) {
        for cache in &mut self.caches {
            cache.truncate(len);
        }
        self.head.truncate(len);
    }
}

/// What every forward pass refuses before touching its cache: no tokens, more than the
/// context holds, or an id outside the embedding table (`vocab` rows).
pub(crate) fn check_call(
    tokens: &[TokenId],
    cached: usize,
    max_context: usize,
    vocab: usize,
) -> std::result::Result<(), ModelError> {
    if tokens.is_empty() {
        return Err(ModelError::Other("forward called with no tokens".into()));
    }
    if cached + tokens.len() > max_context {
        return Err(ModelError::ContextFull { max: max_context });
    }
    if let Some(bad) = tokens.iter().find(|&&t| t as usize >= vocab) {
        return Err(ModelError::Other(format!("token id {bad} is outside the vocabulary ({vocab})")));
    }
    Ok(())
}

/// Per-row RMS normalisation: `out = x / sqrt(mean(x^2) + eps) * weight`.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let d = weight.len();
    for (row, out_row) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let mean_sq = row.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let inv = 1.0 / (mean_sq + eps).sqrt();
        for ((o, v), w) in out_row.iter_mut().zip(row).zip(weight) {
            *o = v * inv * w;
        }
    }
}

fn add_bias(x: &mut [f32], bias: Option<&[f32]>) {
    if let Some(b) = bias {
        for row in x.chunks_exact_mut(b.len()) {
            add_in_place(row, b);
        }
    }
}

fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
