//! A GGUF file opened for inference: candle's reader for the header, metadata and tensor
//! table, and a read-only memory map for the tensor data, so weights stay quantized and are
//! paged in from the file instead of being copied onto the heap.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::gguf_file::{Content, TensorInfo};
use candle_core::quantized::GgmlDType;
use memmap2::Mmap;
use tandem_kernels::{Bytes, QMatrix, QType};

use crate::error::{ModelsError, Result};
use crate::gguf_meta::Meta;

/// The memory map, shareable with the kernels' [`Bytes::Shared`].
struct MappedFile(Mmap);

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An opened, validated GGUF file.
///
/// Invariant: every tensor listed in the header lies entirely inside the file, so a
/// truncated download is rejected at open time rather than crashing mid-answer.
pub struct GgufFile {
    path: PathBuf,
    /// The path as shown in messages.
    source: String,
    content: Content,
    map: Arc<MappedFile>,
}

impl GgufFile {
    /// Opens and validates `path`. A file that is not GGUF, is truncated, or uses a tensor
    /// type we cannot run gives [`ModelsError::BadFile`] / [`ModelsError::Unsupported`]
    /// with a reason a person can act on.
    pub fn open(path: &Path) -> Result<GgufFile> {
        let shown = path.display().to_string();
        let bad = |reason: String| ModelsError::BadFile { path: shown.clone(), reason };
        let mut file = File::open(path).map_err(|e| bad(format!("cannot open the file ({e})")))?;
        let file_len = file.metadata()?.len();
        let content = Content::read(&mut file).map_err(|e| {
            let said = e.to_string();
            if said.contains("unknown dtype") {
                return ModelsError::Unsupported(format!(
                    "{shown}: its weights use a quantization format Tandem cannot run yet; \
                     a Q4_K_M, Q5_K_M, Q6_K or Q8_0 file of the same model works"
                ));
            }
            bad(format!(
                "this is not a readable GGUF model file ({}); it may be damaged, incomplete, or another kind of file",
                first_line(&e.to_string())
            ))
        })?;
        for (name, info) in &content.tensor_infos {
            let qtype = qtype_of(info.ggml_dtype).ok_or_else(|| {
                ModelsError::Unsupported(format!(
                    "{shown}: tensor `{name}` uses the {:?} format, which Tandem cannot run yet; \
                     a Q4_K_M, Q5_K_M, Q6_K or Q8_0 file of the same model works",
                    info.ggml_dtype
                ))
            })?;
            let bytes = tensor_bytes(info, qtype).ok_or_else(|| {
                bad(format!("tensor `{name}` has a shape that does not fit its {} blocks", qtype.name()))
            })?;
            let end = content.tensor_data_offset + info.offset + bytes as u64;
            if end > file_len {
                return Err(bad(format!(
                    "the file is incomplete: it is {file_len} bytes but its tensors need {end}; download it again"
                )));
            }
        }
        // SAFETY: the map is read-only; a model file being rewritten underneath a running
        // app is outside what we protect against (downloads write to a temporary name).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| bad(format!("cannot map the file ({e})")))?;
        Ok(GgufFile { path: path.to_path_buf(), source: shown, content, map: Arc::new(MappedFile(map)) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header and metadata as candle parsed them (the tokenizer reads this).
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Typed access to the metadata, with errors naming this file.
    pub fn meta(&self) -> Meta<'_> {
        Meta::new(&self.content, &self.source)
    }

    /// `general.architecture`, e.g. "qwen2" or "llama".
    pub fn architecture(&self) -> Result<&str> {
        self.meta().str("general.architecture")
    }

    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Every tensor's name and size in bytes as stored.
    pub fn tensor_sizes(&self) -> impl Iterator<Item = (&str, usize)> {
        self.content.tensor_infos.iter().map(|(name, info)| {
            let qtype = qtype_of(info.ggml_dtype).expect("validated at open");
            (name.as_str(), tensor_bytes(info, qtype).expect("validated at open"))
        })
    }

    /// A 2-D weight matrix, `rows x cols` in the kernels' orientation (output features x
    /// input features), backed by the memory map.
    pub fn matrix(&self, name: &str) -> Result<QMatrix> {
        let (info, qtype, bytes) = self.tensor(name)?;
        let dims = info.shape.dims();
        let (rows, cols) = match dims {
            [rows, cols] => (*rows, *cols),
            _ => return Err(self.bad(format!("tensor `{name}` should be a matrix but has shape {dims:?}"))),
        };
        let offset = (self.content.tensor_data_offset + info.offset) as usize;
        let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = self.map.clone();
        QMatrix::new(qtype, rows, cols, Bytes::Shared { buf: shared, offset, len: bytes })
            .map_err(|e| self.bad(format!("tensor `{name}`: {e}")))
    }

    /// Lets the operating system drop this tensor's pages from the process, for a tensor
    /// whose data has been copied (widened or repacked) and is no longer read through the
    /// map, so that memory holds it once. The map stays valid: a later read, such as an
    /// embedding lookup in a matrix that is also the repacked output layer, pages the bytes
    /// in again from the file. Does nothing where that is not supported.
    pub fn release(&self, name: &str) {
        #[cfg(unix)]
        if let Ok((info, _, len)) = self.tensor(name) {
            let offset = (self.content.tensor_data_offset + info.offset) as usize;
            // SAFETY: `Mmap::map` makes a read-only shared mapping of the file, so dropping
            // its pages loses nothing: a read faults the same bytes back in from the file,
            // and every slice into the map stays valid.
            let _ = unsafe { self.map.0.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
        }
        #[cfg(not(unix))]
        let _ = name;
    }

    /// A weight as candle's quantized tensor on `device`, read from the file (for the
    /// accelerated path; the CPU path uses [`GgufFile::matrix`] and its memory map).
    /// `device_name` is how errors name the device.
    pub fn qtensor(
        &self,
        name: &str,
        device: &candle_core::Device,
        device_name: &str,
    ) -> Result<candle_core::quantized::QTensor> {
        self.tensor(name)?;
        let mut file = std::io::BufReader::new(File::open(&self.path)?);
        self.content.tensor(&mut file, name, device).map_err(|e| ModelsError::Device {
            device: device_name.to_string(),
            message: format!("could not load `{name}` from {}: {e}", self.source),
        })
    }

    /// A 1-D tensor (norm weights, biases) as f32.
    pub fn vector(&self, name: &str) -> Result<Vec<f32>> {
        let (info, qtype, bytes) = self.tensor(name)?;
        let len = info.shape.elem_count();
        let offset = (self.content.tensor_data_offset + info.offset) as usize;
        let raw: &[u8] = &self.map.0[offset..offset + bytes];
        let as_matrix = QMatrix::new(qtype, 1, len, Bytes::Owned(raw.to_vec()))
            .map_err(|e| self.bad(format!("tensor `{name}`: {e}")))?;
        let mut out = vec![0f32; len];
        as_matrix.dequantize_row(0, &mut out);
        Ok(out)
    }

    fn tensor(&self, name: &str) -> Result<(&TensorInfo, QType, usize)> {
        let info =
            self.content.tensor_infos.get(name).ok_or_else(|| self.bad(format!("the model has no tensor `{name}`")))?;
        // Both were checked in `open`.
        let qtype = qtype_of(info.ggml_dtype).expect("validated at open");
        let bytes = tensor_bytes(info, qtype).expect("validated at open");
        Ok((info, qtype, bytes))
    }

    fn bad(&self, reason: String) -> ModelsError {
        ModelsError::BadFile { path: self.source.clone(), reason }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Our kernels' type for a candle GGML type, if we can run it.
/// The display name of a tensor type this crate can run ("Q4_K", "F16", …).
pub(crate) fn type_name(d: GgmlDType) -> &'static str {
    qtype_of(d).map_or("unsupported", QType::name)
}

fn qtype_of(d: GgmlDType) -> Option<QType> {
    Some(match d {
        GgmlDType::F32 => QType::F32,
        GgmlDType::F16 => QType::F16,
        GgmlDType::BF16 => QType::BF16,
        GgmlDType::Q4_0 => QType::Q4_0,
        GgmlDType::Q4_1 => QType::Q4_1,
        GgmlDType::Q5_0 => QType::Q5_0,
        GgmlDType::Q5_1 => QType::Q5_1,
        GgmlDType::Q8_0 => QType::Q8_0,
        GgmlDType::Q4K => QType::Q4K,
        GgmlDType::Q5K => QType::Q5K,
        GgmlDType::Q6K => QType::Q6K,
        _ => return None,
    })
}

/// Size in bytes of a tensor's data, or None if its row length is not whole blocks.
fn tensor_bytes(info: &TensorInfo, qtype: QType) -> Option<usize> {
    let dims = info.shape.dims();
    let row = *dims.last()?;
    if row % qtype.block_size() != 0 {
        return None;
    }
    let n = info.shape.elem_count();
    Some(n / qtype.block_size() * qtype.block_bytes())
}
