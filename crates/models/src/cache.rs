//! Tandem's own model folder, and how a model named on the command line is found.
//!
//! The folder is `$TANDEM_MODELS_DIR`, else `$XDG_CACHE_HOME/tandem/models`, else
//! `$HOME/.cache/tandem/models`. It holds mirror downloads, always as `<dir>/<id>.gguf`
//! (a file under that name has been verified against the catalog's checksum, see `fetch`),
//! and the list of imported models. Hugging Face downloads live in the hub cache.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{ModelsError, Result};
use crate::library::Library;

/// The model cache directory for this process's environment.
pub fn models_dir() -> Result<PathBuf> {
    models_dir_from(std::env::var_os("TANDEM_MODELS_DIR"), std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

/// The cache directory from the values of `TANDEM_MODELS_DIR`, `XDG_CACHE_HOME` and `HOME`.
/// Empty values count as unset; a relative `XDG_CACHE_HOME` is ignored, as the XDG
/// specification requires.
pub fn models_dir_from(
    tandem: Option<OsString>,
    xdg_cache: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(tandem) {
        return Ok(dir);
    }
    if let Some(cache) = set(xdg_cache).filter(|p| p.is_absolute()) {
        return Ok(cache.join("tandem").join("models"));
    }
    if let Some(home) = set(home) {
        return Ok(home.join(".cache").join("tandem").join("models"));
    }
    Err(ModelsError::Fetch(
        "cannot tell where to keep models: set TANDEM_MODELS_DIR to a folder (HOME is not set)".into(),
    ))
}

/// Where catalog model `id` is stored inside `dir`.
pub fn model_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.gguf"))
}

/// The GGUF file meant by `spec`: a catalog id (in the hub cache or Tandem's folder), an
/// imported or found model's id, or a path to a `.gguf` file. See [`Library::resolve`].
pub fn resolve(spec: &str) -> Result<PathBuf> {
    Library::from_env()?.resolve(spec)
}
