//! Where downloaded models live, and how a model named on the command line is found.
//!
//! The cache directory is `$TANDEM_MODELS_DIR`, else `$XDG_CACHE_HOME/tandem/models`, else
//! `$HOME/.cache/tandem/models`. A catalog model `id` is always stored as `<dir>/<id>.gguf`;
//! a file under that name has been verified against the catalog's checksum (see `fetch`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::error::{ModelsError, Result};

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

/// The GGUF file meant by `spec`: a catalog id (looked up in the cache directory) or a
/// path to a `.gguf` file.
pub fn resolve(spec: &str) -> Result<PathBuf> {
    resolve_in(&models_dir()?, Catalog::builtin(), spec)
}

/// [`resolve`] against an explicit cache directory and catalog.
///
/// A catalog id that is not downloaded yet is an error that says how to download it; a
/// path must name an existing file; anything else is an unknown model.
pub fn resolve_in(dir: &Path, catalog: &Catalog, spec: &str) -> Result<PathBuf> {
    if let Some(model) = catalog.find(spec) {
        let path = model_path(dir, &model.id);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(ModelsError::Fetch(format!(
                "{} is not downloaded yet: run `tandem models fetch {}` (it is {:.1} GB)",
                model.name,
                model.id,
                model.size as f64 / 1e9
            )))
        };
    }
    let path = Path::new(spec);
    let looks_like_path = spec.ends_with(".gguf") || spec.contains(std::path::MAIN_SEPARATOR) || spec.contains('/');
    if looks_like_path {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(ModelsError::BadFile { path: spec.to_string(), reason: "there is no such file".into() })
        };
    }
    Err(ModelsError::UnknownModel(spec.to_string()))
}
