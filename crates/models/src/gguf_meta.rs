//! Typed reads of GGUF metadata values from candle's parsed header.
//!
//! GGUF writers disagree on integer widths (a token id may be stored as u32, i32 or u64),
//! so every integer read accepts any integer type and rejects values that do not fit.
//! A key that is present with the wrong type is a damaged file, never silently ignored.

use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};

use crate::error::{ModelsError, Result};

/// Reads only the header of a GGUF file: metadata and the tensor table, not the weights.
/// This is what the tokenizer and the pair check need, and it takes milliseconds.
pub fn read_header(path: &Path) -> Result<Content> {
    let shown = path.display().to_string();
    let mut file = File::open(path)
        .map_err(|e| ModelsError::BadFile { path: shown.clone(), reason: format!("cannot open the file ({e})") })?;
    Content::read(&mut file).map_err(|e| ModelsError::BadFile {
        path: shown,
        reason: format!(
            "this is not a readable GGUF model file ({}); it may be damaged, incomplete, or another kind of file",
            e.to_string().lines().next().unwrap_or_default()
        ),
    })
}

/// The metadata of one GGUF file, with the name of its source for error messages.
pub struct Meta<'a> {
    content: &'a Content,
    source: &'a str,
}

impl<'a> Meta<'a> {
    /// `source` names the file (or other origin) in error messages.
    pub fn new(content: &'a Content, source: &'a str) -> Meta<'a> {
        Meta { content, source }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.content.metadata.get(key)
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.wrong_type(key, "a string")),
        }
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong_type(key, "a boolean")),
        }
    }

    /// An integer of any width that fits in a u32 (token ids, counts).
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => int_of(v)
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a non-negative integer below 2^32")),
        }
    }

    /// An integer of any width that fits in a usize (sizes and counts).
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => int_of(v)
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a non-negative integer")),
        }
    }

    /// A required [`Meta::opt_usize`].
    pub fn usize(&self, key: &str) -> Result<usize> {
        self.opt_usize(key)?.ok_or_else(|| self.missing(key))
    }

    /// A required [`Meta::opt_str`].
    pub fn str(&self, key: &str) -> Result<&'a str> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// A float of either width.
    pub fn opt_f32(&self, key: &str) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::F32(x)) => Ok(Some(*x)),
            Some(Value::F64(x)) => Ok(Some(*x as f32)),
            Some(_) => Err(self.wrong_type(key, "a number")),
        }
    }

    /// A required array of strings, such as `tokenizer.ggml.tokens`.
    pub fn strings(&self, key: &str) -> Result<Vec<&'a str>> {
        match self.get(key) {
            None => Err(self.missing(key)),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.as_str()),
                    _ => Err(self.wrong_type(key, "an array of strings")),
                })
                .collect(),
            Some(_) => Err(self.wrong_type(key, "an array of strings")),
        }
    }

    /// An optional array of integers, such as `tokenizer.ggml.token_type`.
    pub fn opt_i64s(&self, key: &str) -> Result<Option<Vec<i64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| int_of(v).and_then(|n| i64::try_from(n).ok()))
                .collect::<Option<Vec<i64>>>()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "an array of integers")),
            Some(_) => Err(self.wrong_type(key, "an array of integers")),
        }
    }

    /// A [`ModelsError::BadFile`] naming this file.
    pub fn bad(&self, reason: String) -> ModelsError {
        ModelsError::BadFile { path: self.source.to_string(), reason }
    }

    fn missing(&self, key: &str) -> ModelsError {
        self.bad(format!("the model's metadata lacks `{key}`"))
    }

    fn wrong_type(&self, key: &str, expected: &str) -> ModelsError {
        self.bad(format!("the model's metadata `{key}` should be {expected}"))
    }
}

/// Any GGUF integer, widened; None for non-integers.
fn int_of(v: &Value) -> Option<i128> {
    Some(match v {
        Value::U8(x) => *x as i128,
        Value::I8(x) => *x as i128,
        Value::U16(x) => *x as i128,
        Value::I16(x) => *x as i128,
        Value::U32(x) => *x as i128,
        Value::I32(x) => *x as i128,
        Value::U64(x) => *x as i128,
        Value::I64(x) => *x as i128,
        _ => return None,
    })
}
