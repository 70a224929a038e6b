//! Model downloads started from the app: one at a time per model, each pausable and
//! cancellable from another command.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use tandem_models::download::{DownloadControl, DownloadEvent, HubConfig};
use tandem_models::library::{LibraryEntry, Status};
use tandem_models::obtain::{obtain, SourceChoice};
use tandem_models::pair::check_pair_files;
use tandem_models::recommend::{recommend, Machine, Recommendation};
use tandem_models::ModelsError;

use crate::app::{lock, App};
use crate::error::{Result, SessionError};

#[derive(Default)]
pub struct Downloads {
    running: Mutex<HashMap<String, DownloadControl>>,
}

impl Downloads {
    /// Shows models being downloaded right now as `downloading` (the library alone sees
    /// them as partial).
    pub fn mark(&self, entries: &mut [LibraryEntry]) {
        let running = lock(&self.running);
        for e in entries.iter_mut().filter(|e| running.contains_key(&e.id)) {
            e.status = Status::Downloading;
        }
    }
}

/// A pair check for people.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairCheck {
    pub compatible: bool,
    pub reasons: Vec<String>,
}

/// A device models can run on.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    pub name: String,
    /// `auto`, `cpu`, `cuda` or `metal`.
    pub kind: String,
    pub memory_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
}

impl App {
    /// Downloads catalog model `id` (continuing a paused download), reporting progress.
    /// Resolves when the verified file is in place; a pause or cancel ends it with
    /// `cancelled`.
    pub fn download(&self, id: &str, on_event: &mut dyn FnMut(DownloadEvent)) -> Result<String> {
        let library = self.library()?;
        let model = library.catalog().get(id)?.clone();
        let control = DownloadControl::new();
        {
            let mut running = lock(&self.downloads.running);
            if running.contains_key(id) {
                return Err(SessionError::invalid(format!("{} is already downloading", model.name)));
            }
            running.insert(id.to_string(), control.clone());
        }
        let settings = self.settings();
        let result = HubConfig::from_env().map_err(SessionError::from).and_then(|mut hub| {
            if let Some(token) = settings.hf_token.filter(|t| !t.trim().is_empty()) {
                hub.token = Some(token.trim().to_string());
            }
            if let Some(endpoint) = settings.hf_endpoint.filter(|e| !e.trim().is_empty()) {
                hub.endpoint = endpoint.trim().trim_end_matches('/').to_string();
            }
            Ok(obtain(&model, SourceChoice::Auto, &library, &hub, &control, on_event)?)
        });
        lock(&self.downloads.running).remove(id);
        Ok(result?.to_string_lossy().into_owned())
    }

    fn control(&self, id: &str) -> Result<DownloadControl> {
        lock(&self.downloads.running)
            .get(id)
            .cloned()
            .ok_or_else(|| SessionError::invalid(format!("{id} is not downloading")))
    }

    pub fn pause_download(&self, id: &str) -> Result<()> {
        self.control(id)?.pause();
        Ok(())
    }

    /// Stops the download and deletes what it had downloaded.
    pub fn cancel_download(&self, id: &str) -> Result<()> {
        match self.control(id) {
            Ok(c) => c.cancel(),
            // A paused download has no task left: delete its partial file directly.
            Err(_) => {
                let library = self.library()?;
                let model = library.catalog().get(id)?;
                if let Some(cache) = &library.locations().hub_cache {
                    tandem_models::hub_cache::remove_partials(cache, &model.hf_repo, model.sha256.as_deref())
                        .map_err(ModelsError::from)?;
                }
            }
        }
        Ok(())
    }

    pub fn recommend(&self) -> Result<Recommendation> {
        let library = self.library()?;
        Ok(recommend(&library, &Machine::detect(&library)))
    }

    pub fn import_model(&self, path: &std::path::Path) -> Result<LibraryEntry> {
        let mut library = self.library()?;
        let imported = library.import(path)?;
        let entry = library.entries().into_iter().find(|e| e.id == imported.id);
        Ok(entry.expect("an import is listed"))
    }

    pub fn remove_model(&self, id: &str) -> Result<u64> {
        if self.current_pair().is_some_and(|p| p.target == id || p.draft.as_deref() == Some(id)) {
            return Err(SessionError::invalid("this model is loaded: unload the pair first"));
        }
        Ok(self.library()?.remove(id)?)
    }

    /// Whether `draft` can guess for `target`, in plain words.
    pub fn check_pair(&self, draft: &str, target: &str) -> Result<PairCheck> {
        let library = self.library()?;
        match check_pair_files(&library.resolve(target)?, &library.resolve(draft)?) {
            Ok(r) => Ok(PairCheck {
                compatible: true,
                reasons: vec![format!(
                    "They share a vocabulary of {} tokens, so every guess of the small model can be checked by the large one.",
                    r.shared_vocab
                )],
            }),
            Err(ModelsError::Incompatible(why)) => Ok(PairCheck { compatible: false, reasons: vec![why] }),
            Err(e) => Err(e.into()),
        }
    }

    /// Where models can run: "automatic" first, then every device this build can use.
    pub fn devices(&self) -> Vec<Device> {
        let automatic = Device {
            id: "auto".into(),
            name: "Automatic (a graphics card when the model fits on it)".into(),
            kind: "auto".into(),
            memory_bytes: None,
            free_bytes: None,
        };
        std::iter::once(automatic)
            .chain(tandem_models::device::devices().into_iter().map(|d| Device {
                id: d.id,
                name: d.name,
                kind: d.kind,
                memory_bytes: d.total_bytes,
                free_bytes: d.free_bytes,
            }))
            .collect()
    }
}
