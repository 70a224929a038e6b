//! Every model this machine has or can get, in one list: the catalog (downloaded from
//! Hugging Face into the hub cache, or from the mirror into Tandem's own folder), files the
//! person imported, and GGUF files other tools left in the hub cache or LM Studio's folder.
//! It also turns a name on the command line into a file.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::{model_path, models_dir};
use crate::catalog::{Catalog, CatalogModel};
use crate::error::{ModelsError, Result};
use crate::hub_cache;
use crate::inspect::{inspect, ModelInfo};

/// Where models are looked for.
#[derive(Clone, Debug)]
pub struct Locations {
    /// Tandem's own folder: mirror downloads (`<id>.gguf`) and the import list.
    pub models_dir: PathBuf,
    /// The Hugging Face hub cache.
    pub hub_cache: Option<PathBuf>,
    /// LM Studio's model folders that exist on this machine.
    pub lm_studio: Vec<PathBuf>,
}

impl Locations {
    /// The folders this process's environment names (see `cache` and `hub_cache`), and
    /// LM Studio's `~/.lmstudio/models` and older `~/.cache/lm-studio/models`.
    pub fn from_env() -> Result<Locations> {
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from);
        let lm_studio = home
            .iter()
            .flat_map(|h| [h.join(".lmstudio").join("models"), h.join(".cache").join("lm-studio").join("models")])
            .filter(|p| p.is_dir())
            .collect();
        Ok(Locations { models_dir: models_dir()?, hub_cache: hub_cache::hub_cache_dir(), lm_studio })
    }
}

/// Where a model in the list comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Catalog,
    Imported,
    /// Found in the hub cache or LM Studio's folder; usable by id or path as it is.
    Found,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ready,
    NotDownloaded,
    /// A paused or interrupted download that can continue.
    Partial,
    /// Being downloaded by this program right now (set by the app, which knows).
    Downloading,
}

/// One row of the model list.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryEntry {
    pub id: String,
    pub name: String,
    pub description: String,
    pub architecture: String,
    pub quantization: String,
    pub size_bytes: u64,
    pub min_ram_bytes: u64,
    pub license: String,
    pub gated: bool,
    pub source: Source,
    pub status: Status,
    pub downloaded_bytes: u64,
    pub path: Option<PathBuf>,
}

/// A file the person imported: kept where it is, remembered by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub id: String,
    pub path: PathBuf,
    pub info: ModelInfoRecord,
}

/// What [`inspect`] found when the file was imported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfoRecord {
    pub name: String,
    pub architecture: String,
    pub quantization: String,
    pub size_bytes: u64,
}

impl From<&ModelInfo> for ModelInfoRecord {
    fn from(i: &ModelInfo) -> ModelInfoRecord {
        ModelInfoRecord {
            name: i.name.clone(),
            architecture: i.architecture.clone(),
            quantization: i.quantization.clone(),
            size_bytes: i.size_bytes,
        }
    }
}

const IMPORTS_FILE: &str = "imports.json";

pub struct Library<'c> {
    loc: Locations,
    catalog: &'c Catalog,
    imports: Vec<Imported>,
}

impl<'c> Library<'c> {
    /// Reads the import list; a missing list is an empty one.
    pub fn open(loc: Locations, catalog: &'c Catalog) -> Result<Library<'c>> {
        let path = loc.models_dir.join(IMPORTS_FILE);
        let imports = match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| ModelsError::BadFile {
                path: path.display().to_string(),
                reason: format!("the list of imported models is damaged ({e}); delete it and import again"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(Library { loc, catalog, imports })
    }

    /// The library of this process's environment and the built-in catalog.
    pub fn from_env() -> Result<Library<'static>> {
        Library::open(Locations::from_env()?, Catalog::builtin())
    }

    pub fn locations(&self) -> &Locations {
        &self.loc
    }

    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    /// The catalog model's file, if it is on this machine: in the hub cache (put there by
    /// Tandem or any other tool) or in Tandem's folder (mirror downloads).
    pub fn catalog_file(&self, model: &CatalogModel) -> Option<PathBuf> {
        if let Some(cache) = &self.loc.hub_cache {
            if let Some(path) = hub_cache::find_verified(cache, &model.hf_repo, &model.hf_file, model.sha256.as_deref())
            {
                return Some(path);
            }
        }
        let own = model_path(&self.loc.models_dir, &model.id);
        own.is_file().then_some(own)
    }

    /// Bytes of a paused or interrupted download of the catalog model.
    pub fn partial_bytes(&self, model: &CatalogModel) -> u64 {
        let Some(cache) = &self.loc.hub_cache else { return 0 };
        hub_cache::partials(cache, &model.hf_repo, model.sha256.as_deref())
            .iter()
            .map(|p| p.committed)
            .max()
            .unwrap_or(0)
    }

    /// Catalog models first (in catalog order), then imports, then files found elsewhere.
    pub fn entries(&self) -> Vec<LibraryEntry> {
        let mut out = Vec::new();
        for m in &self.catalog.models {
            let path = self.catalog_file(m);
            let partial = if path.is_none() { self.partial_bytes(m) } else { 0 };
            let status = match (&path, partial) {
                (Some(_), _) => Status::Ready,
                (None, 0) => Status::NotDownloaded,
                (None, _) => Status::Partial,
            };
            out.push(LibraryEntry {
                id: m.id.clone(),
                name: m.name.clone(),
                description: m.description.clone(),
                architecture: m.architecture.clone(),
                quantization: m.quantization.clone(),
                size_bytes: m.size,
                min_ram_bytes: m.min_ram_mib << 20,
                license: m.license.clone(),
                gated: m.gated,
                source: Source::Catalog,
                downloaded_bytes: if path.is_some() { m.size } else { partial },
                status,
                path,
            });
        }
        for i in &self.imports {
            let here = i.path.is_file();
            out.push(LibraryEntry {
                id: i.id.clone(),
                name: i.info.name.clone(),
                description: format!("Imported from {}", i.path.display()),
                architecture: i.info.architecture.clone(),
                quantization: i.info.quantization.clone(),
                size_bytes: i.info.size_bytes,
                min_ram_bytes: ram_for(i.info.size_bytes),
                license: String::new(),
                gated: false,
                source: Source::Imported,
                status: if here { Status::Ready } else { Status::NotDownloaded },
                downloaded_bytes: if here { i.info.size_bytes } else { 0 },
                path: Some(i.path.clone()),
            });
        }
        for f in self.found() {
            let size = fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
            out.push(LibraryEntry {
                id: f.id.clone(),
                name: f.file_name.clone(),
                description: format!("Found in {}", f.place),
                architecture: String::new(),
                quantization: String::new(),
                size_bytes: size,
                min_ram_bytes: ram_for(size),
                license: String::new(),
                gated: false,
                source: Source::Found,
                status: Status::Ready,
                downloaded_bytes: size,
                path: Some(f.path),
            });
        }
        out
    }

    /// GGUF files other tools keep, minus catalog models and files already imported.
    /// Vision projectors and split files (which Tandem cannot load) are left out.
    pub fn found(&self) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        let mut taken: Vec<PathBuf> = self.imports.iter().filter_map(|i| fs::canonicalize(&i.path).ok()).collect();
        let mut add = |path: PathBuf, file_name: String, place: &str, out: &mut Vec<Found>| {
            let lower = file_name.to_ascii_lowercase();
            if lower.contains("mmproj") || is_split_part(&lower) {
                return;
            }
            let Ok(real) = fs::canonicalize(&path) else { return };
            if taken.contains(&real) {
                return;
            }
            taken.push(real);
            let base = slug(file_name.trim_end_matches(".gguf").trim_end_matches(".GGUF"));
            let mut id = base.clone();
            let mut n = 2;
            while self.catalog.find(&id).is_some()
                || self.imports.iter().any(|i| i.id == id)
                || out.iter().any(|f| f.id == id)
            {
                id = format!("{base}-{n}");
                n += 1;
            }
            out.push(Found { id, file_name, path, place: place.to_string() });
        };
        if let Some(cache) = &self.loc.hub_cache {
            for f in hub_cache::scan(cache) {
                let is_catalog = self.catalog.models.iter().any(|m| m.hf_repo == f.repo && m.hf_file == f.file);
                if !is_catalog {
                    let name = f.file.rsplit('/').next().unwrap_or(&f.file).to_string();
                    add(f.path, name, &format!("the Hugging Face cache ({})", f.repo), &mut out);
                }
            }
        }
        for dir in &self.loc.lm_studio {
            for path in gguf_files(dir, 3) {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                add(path, name, "LM Studio's models folder", &mut out);
            }
        }
        out
    }

    /// The GGUF file meant by `spec`: a catalog id, an imported or found model's id, or a
    /// path to a `.gguf` file.
    pub fn resolve(&self, spec: &str) -> Result<PathBuf> {
        if let Some(model) = self.catalog.find(spec) {
            return self.catalog_file(model).ok_or_else(|| ModelsError::NotDownloaded {
                id: model.id.clone(),
                name: model.name.clone(),
                gb: model.size as f64 / 1e9,
            });
        }
        if let Some(i) = self.imports.iter().find(|i| i.id == spec) {
            return if i.path.is_file() {
                Ok(i.path.clone())
            } else {
                Err(ModelsError::BadFile {
                    path: i.path.display().to_string(),
                    reason: format!(
                        "the imported model `{spec}` is no longer there; import it again from its new place"
                    ),
                })
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
        if let Some(f) = self.found().into_iter().find(|f| f.id == spec) {
            return Ok(f.path);
        }
        Err(ModelsError::UnknownModel(spec.to_string()))
    }

    /// Checks `path` and adds it to the list under a new id (the file stays where it is).
    /// Importing the same file again returns its existing entry.
    pub fn import(&mut self, path: &Path) -> Result<Imported> {
        let real = fs::canonicalize(path).map_err(|e| ModelsError::BadFile {
            path: path.display().to_string(),
            reason: format!("cannot open the file ({e})"),
        })?;
        if let Some(existing) = self.imports.iter().find(|i| fs::canonicalize(&i.path).ok().as_ref() == Some(&real)) {
            return Ok(existing.clone());
        }
        let info = inspect(&real)?;
        let base = slug(&info.name);
        let mut id = base.clone();
        let mut n = 2;
        while self.catalog.find(&id).is_some() || self.imports.iter().any(|i| i.id == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let imported = Imported { id, path: real, info: (&info).into() };
        self.imports.push(imported.clone());
        self.save()?;
        Ok(imported)
    }

    /// Removes a model: a catalog model's files are deleted (hub cache, partial downloads,
    /// Tandem's folder); an import is forgotten but its file left alone. Returns bytes freed.
    pub fn remove(&mut self, id: &str) -> Result<u64> {
        if let Some(model) = self.catalog.find(id) {
            let mut freed = 0;
            if let Some(cache) = &self.loc.hub_cache {
                freed += hub_cache::remove(cache, &model.hf_repo, &model.hf_file)?;
                hub_cache::remove_partials(cache, &model.hf_repo, model.sha256.as_deref())?;
            }
            let own = model_path(&self.loc.models_dir, &model.id);
            if let Ok(meta) = fs::metadata(&own) {
                fs::remove_file(&own)?;
                freed += meta.len();
            }
            return Ok(freed);
        }
        if let Some(pos) = self.imports.iter().position(|i| i.id == id) {
            self.imports.remove(pos);
            self.save()?;
            return Ok(0);
        }
        if let Some(f) = self.found().into_iter().find(|f| f.id == id) {
            return Err(ModelsError::Unsupported(format!(
                "{} belongs to {}; delete it there (Tandem only removes models it downloaded or imported)",
                f.path.display(),
                f.place
            )));
        }
        Err(ModelsError::UnknownModel(id.to_string()))
    }

    /// Writes the import list atomically (a crash leaves the old list or the new one).
    fn save(&self) -> Result<()> {
        fs::create_dir_all(&self.loc.models_dir)?;
        let path = self.loc.models_dir.join(IMPORTS_FILE);
        let tmp = self.loc.models_dir.join(format!(".{IMPORTS_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_vec_pretty(&self.imports).expect("plain data serialises"))?;
        fs::rename(&tmp, &path)?;
        Ok(())
    }
}

/// A GGUF file another tool keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub file_name: String,
    pub path: PathBuf,
    /// Where it was found, in words.
    pub place: String,
}

/// Memory to run a model of `size` bytes alone: the mapped weights plus working room.
fn ram_for(size: u64) -> u64 {
    size + size / 5 + (256 << 20)
}

/// `model-00002-of-00003.gguf` and the like.
fn is_split_part(name: &str) -> bool {
    let stem = name.trim_end_matches(".gguf");
    let parts: Vec<&str> = stem.rsplitn(4, '-').collect();
    parts.len() == 4
        && parts[1] == "of"
        && parts[0].bytes().all(|b| b.is_ascii_digit())
        && parts[2].bytes().all(|b| b.is_ascii_digit())
}

/// A lower-case id made of letters, digits, dots and dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '.']).to_string();
    if out.is_empty() {
        "model".to_string()
    } else {
        out
    }
}

/// `.gguf` files under `dir`, at most `depth` folders down, in name order.
fn gguf_files(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if depth > 0 {
                out.extend(gguf_files(&path, depth - 1));
            }
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_and_slugs() {
        assert!(is_split_part("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf"));
        assert!(!is_split_part("qwen2.5-7b-instruct-q4_k_m.gguf"));
        assert_eq!(slug("Qwen2.5 Coder 1.5B Instruct"), "qwen2.5-coder-1.5b-instruct");
        assert_eq!(slug("  ~~ "), "model");
    }
}
