//! One file from the Hugging Face hub, through hf-hub's tokio API, made to survive the
//! real world: retries that resume, stall detection, pause/cancel, disk checks, checksums.
//!
//! Each attempt runs on its own single-threaded tokio runtime that is shut down when the
//! attempt ends. hf-hub spawns one task per chunk; shutting the runtime down is what stops
//! them, so a cancelled or failed attempt leaves nothing downloading in the background.
//! hf-hub commits chunks in order into `<blob>.sync.part` and the next attempt (in this
//! process or a later one) continues after the last committed chunk.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hf_hub::api::tokio::{ApiBuilder, ApiError, Progress};
use hf_hub::{Cache, Repo, RepoType};

use super::control::{DownloadControl, Request};
use super::events::DownloadEvent;
use super::rate::RateMeter;
use super::verify::sha256_file;
use crate::error::{is_disk_full, ModelsError, Result};
use crate::hub_cache;

/// How often the download loop reports progress and looks at the pause/cancel switch.
const TICK: Duration = Duration::from_millis(50);
/// Reports at most this often.
const REPORT_EVERY: Duration = Duration::from_millis(200);
/// Room kept free beyond the file itself (a fiftieth of it, at most 64 MB), so the rest of
/// the system does not run dry.
fn disk_margin(needed: u64) -> u64 {
    (needed / 50).min(64 << 20)
}

/// Where to download from and how hard to try.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// `https://huggingface.co` or a mirror speaking the same protocol (`HF_ENDPOINT`).
    pub endpoint: String,
    /// An access token for gated or private repositories.
    pub token: Option<String>,
    /// The hub cache directory (see [`hub_cache`]).
    pub cache_dir: PathBuf,
    /// Bytes per range request; also the granularity of resume.
    pub chunk_size: usize,
    /// Range requests in flight at once.
    pub parallel: usize,
    /// No byte for this long counts as a dropped connection.
    pub stall_timeout: Duration,
    /// Failed attempts in a row, without any progress between them, before giving up.
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl HubConfig {
    pub const DEFAULT_ENDPOINT: &'static str = "https://huggingface.co";

    /// Defaults for a desktop: 10 MB pieces, 4 at a time, 30 s stall timeout, 6 tries.
    pub fn new(cache_dir: PathBuf) -> HubConfig {
        HubConfig {
            endpoint: HubConfig::DEFAULT_ENDPOINT.to_string(),
            token: None,
            cache_dir,
            chunk_size: 10_000_000,
            parallel: 4,
            stall_timeout: Duration::from_secs(30),
            max_attempts: 6,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// [`HubConfig::new`] with the cache, endpoint and token the environment names:
    /// `HF_HUB_CACHE`/`HF_HOME`, `HF_ENDPOINT`, and `HF_TOKEN` or the token file that
    /// `huggingface-cli login` writes.
    pub fn from_env() -> Result<HubConfig> {
        let cache = hub_cache::hub_cache_dir().ok_or_else(|| {
            ModelsError::Fetch("cannot tell where the Hugging Face cache is: set HF_HOME to a folder".into())
        })?;
        let mut config = HubConfig::new(cache);
        if let Some(endpoint) = std::env::var("HF_ENDPOINT").ok().filter(|e| !e.trim().is_empty()) {
            config.endpoint = endpoint.trim().trim_end_matches('/').to_string();
        }
        config.token = std::env::var("HF_TOKEN")
            .ok()
            .or_else(|| std::env::var("HUGGING_FACE_HUB_TOKEN").ok())
            .or_else(|| token_file(&config.cache_dir))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        Ok(config)
    }
}

/// `<HF_HOME>/token`, the file `huggingface-cli login` writes (the cache's parent folder).
fn token_file(cache_dir: &Path) -> Option<String> {
    let home = std::env::var_os("HF_HOME").map(PathBuf::from).or_else(|| cache_dir.parent().map(Path::to_path_buf))?;
    std::fs::read_to_string(home.join("token")).ok()
}

/// A file to download.
#[derive(Clone, Debug)]
pub struct HubFile {
    /// The name shown in events and messages (a catalog id).
    pub id: String,
    pub repo: String,
    pub file: String,
    /// The SHA-256 the file must have; without it the hub's LFS etag is used.
    pub sha256: Option<String>,
    /// Roughly how big the file is, for the free-space check before the server is asked.
    pub size_hint: u64,
}

/// Downloads `file` into the hub cache and returns the verified path (a snapshot link).
/// A copy already in the cache is returned without a network request.
///
/// Blocking: run it on a thread of its own. `events` is called on this thread.
pub fn download(
    file: &HubFile,
    config: &HubConfig,
    control: &DownloadControl,
    events: &mut dyn FnMut(DownloadEvent),
) -> Result<PathBuf> {
    if let Some(path) = cached(file, config) {
        events(DownloadEvent::Done { id: file.id.clone(), path: path.clone() });
        return Ok(path);
    }
    check_space(file, config)?;
    let api = ApiBuilder::from_cache(Cache::new(config.cache_dir.clone()))
        .with_endpoint(config.endpoint.clone())
        .with_token(config.token.clone())
        .with_progress(false)
        .with_max_files(config.parallel.max(1))
        .with_chunk_size(Some(config.chunk_size.max(1)))
        .build()
        .map_err(|e| ModelsError::Fetch(format!("cannot set up the download: {e}")))?;
    let repo = api.repo(Repo::new(file.repo.clone(), RepoType::Model));

    let tracker = Tracker::default();
    let mut started = false;
    let mut ever_received = false;
    let mut failures = 0u32;
    let mut last = Report::default();
    let pointer = loop {
        let attempt_start = tracker.snapshot();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ModelsError::Fetch(format!("cannot start the download: {e}")))?;
        let outcome =
            runtime.block_on(attempt(&repo, file, config, control, &tracker, &mut started, &mut last, events));
        // Stops hf-hub's chunk tasks of this attempt, whatever the outcome.
        runtime.shutdown_background();
        let progressed = tracker.snapshot().received > attempt_start.received;
        ever_received |= tracker.snapshot().received > 0;
        let reason = match outcome {
            Outcome::Finished(Ok(pointer)) => break pointer,
            Outcome::Stopped(request) => return Err(stopped(request, file, config, &tracker, events)),
            Outcome::Stalled => format!("the server sent nothing for {} s", config.stall_timeout.as_secs_f64()),
            Outcome::Finished(Err(e)) => match classify(&e, file, config, &tracker) {
                Failure::Permanent(err) => return Err(err),
                Failure::Offline(why) if !ever_received => {
                    return Err(ModelsError::Unreachable(format!(
                    "cannot reach {} ({why}); check the internet connection, or import a GGUF file you already have",
                    config.endpoint
                )))
                }
                Failure::Offline(why) | Failure::Transient(why) => why,
            },
        };
        failures = if progressed { 1 } else { failures + 1 };
        if failures >= config.max_attempts.max(1) {
            return Err(ModelsError::Fetch(format!(
                "the download of {} keeps failing ({reason}); what was downloaded is kept, try again later",
                file.id
            )));
        }
        let wait = backoff(config, failures);
        events(DownloadEvent::Retrying {
            id: file.id.clone(),
            attempt: failures + 1,
            wait_seconds: wait.as_secs_f64(),
            reason: reason.clone(),
        });
        if let Some(request) = sleep_unless_stopped(wait, control) {
            return Err(stopped(request, file, config, &tracker, events));
        }
    };
    verify(file, &pointer, events)?;
    events(DownloadEvent::Done { id: file.id.clone(), path: pointer.clone() });
    Ok(pointer)
}

/// Ends a download the person stopped: a cancel deletes the partial file, a pause keeps
/// it and reports how far it got.
fn stopped(
    request: Request,
    file: &HubFile,
    config: &HubConfig,
    tracker: &Tracker,
    events: &mut dyn FnMut(DownloadEvent),
) -> ModelsError {
    if request == Request::Cancel {
        if let Err(e) = hub_cache::remove_partials(&config.cache_dir, &file.repo, file.sha256.as_deref()) {
            return e.into();
        }
        return ModelsError::Stopped { paused: false };
    }
    let s = tracker.snapshot();
    events(DownloadEvent::Paused { id: file.id.clone(), done_bytes: s.done, total_bytes: s.total });
    ModelsError::Stopped { paused: true }
}

/// A verified copy already in the cache: found under `main` or any snapshot, and (when
/// the catalog knows the checksum) stored as the blob named by that checksum.
fn cached(file: &HubFile, config: &HubConfig) -> Option<PathBuf> {
    hub_cache::find_verified(&config.cache_dir, &file.repo, &file.file, file.sha256.as_deref())
}

/// Refuses to start when the disk cannot hold what is left to download.
fn check_space(file: &HubFile, config: &HubConfig) -> Result<()> {
    let kept = hub_cache::partials(&config.cache_dir, &file.repo, file.sha256.as_deref())
        .iter()
        .map(|p| p.committed)
        .max()
        .unwrap_or(0);
    let needed = file.size_hint.saturating_sub(kept);
    let available = free_space(&config.cache_dir)?;
    if available < needed.saturating_add(disk_margin(needed)) {
        return Err(ModelsError::DiskFull {
            path: config.cache_dir.display().to_string(),
            needed: needed + disk_margin(needed),
            available,
            kept,
        });
    }
    Ok(())
}

/// Free bytes on the disk that holds `dir` (or its nearest existing parent).
pub fn free_space(dir: &Path) -> Result<u64> {
    let mut probe = dir;
    while !probe.exists() {
        match probe.parent() {
            Some(parent) => probe = parent,
            None => break,
        }
    }
    Ok(fs4::available_space(probe)?)
}

fn backoff(config: &HubConfig, failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    config.backoff_base.saturating_mul(factor).min(config.backoff_max)
}

/// Sleeps `wait`, returning early with the request if the person paused or cancelled.
fn sleep_unless_stopped(wait: Duration, control: &DownloadControl) -> Option<Request> {
    let end = Instant::now() + wait;
    loop {
        match control.request() {
            Request::Run => {}
            other => return Some(other),
        }
        let now = Instant::now();
        if now >= end {
            return None;
        }
        std::thread::sleep(TICK.min(end - now));
    }
}

enum Outcome {
    Finished(std::result::Result<PathBuf, ApiError>),
    Stopped(Request),
    Stalled,
}

#[derive(Default)]
struct Report {
    at: Option<Instant>,
    meter: RateMeter,
    done: u64,
}

/// One try: runs hf-hub's download while reporting progress and watching for a pause,
/// a cancel or a stall.
#[allow(clippy::too_many_arguments)]
async fn attempt(
    repo: &hf_hub::api::tokio::ApiRepo,
    file: &HubFile,
    config: &HubConfig,
    control: &DownloadControl,
    tracker: &Tracker,
    started: &mut bool,
    last: &mut Report,
    events: &mut dyn FnMut(DownloadEvent),
) -> Outcome {
    tracker.begin_attempt();
    let download = repo.download_with_progress(&file.file, tracker.clone());
    tokio::pin!(download);
    let mut tick = tokio::time::interval(TICK);
    let begun = Instant::now();
    loop {
        tokio::select! {
            result = &mut download => {
                // A fast download can end before the first tick: report it all the same.
                report(file, tracker, started, last, events, true);
                return Outcome::Finished(result);
            }
            _ = tick.tick() => {
                let request = control.request();
                if request != Request::Run {
                    return Outcome::Stopped(request);
                }
                report(file, tracker, started, last, events, false);
                let idle_since = tracker.last_activity().unwrap_or(begun);
                if idle_since.elapsed() > config.stall_timeout {
                    return Outcome::Stalled;
                }
            }
        }
    }
}

/// Sends `Started` once the size is known, then `Progress` at most every [`REPORT_EVERY`]
/// (or now, with `force`) when the count moved.
fn report(
    file: &HubFile,
    tracker: &Tracker,
    started: &mut bool,
    last: &mut Report,
    events: &mut dyn FnMut(DownloadEvent),
    force: bool,
) {
    let s = tracker.snapshot();
    if s.total == 0 || !s.offset_known {
        return;
    }
    if !*started {
        *started = true;
        events(DownloadEvent::Started { id: file.id.clone(), total_bytes: s.total, resumed_from_bytes: s.resumed });
    }
    let now = Instant::now();
    if !force && last.at.is_some_and(|t| now.duration_since(t) < REPORT_EVERY) {
        return;
    }
    last.meter.record(now, s.done);
    if s.done != last.done || last.at.is_none() {
        events(DownloadEvent::Progress {
            id: file.id.clone(),
            done_bytes: s.done,
            total_bytes: s.total,
            bytes_per_second: last.meter.rate().unwrap_or(0.0),
            eta_seconds: last.meter.eta(s.done, s.total),
        });
        last.done = s.done;
    }
    last.at = Some(now);
}

enum Failure {
    /// Retrying cannot help; the error says what to do instead.
    Permanent(ModelsError),
    /// The server could not be reached at all.
    Offline(String),
    /// Worth another try.
    Transient(String),
}

fn classify(e: &ApiError, file: &HubFile, config: &HubConfig, tracker: &Tracker) -> Failure {
    match e {
        ApiError::RequestError(re) => match re.status().map(|s| s.as_u16()) {
            Some(401 | 403) => Failure::Permanent(ModelsError::NeedsToken { repo: file.repo.clone() }),
            Some(404) => Failure::Permanent(ModelsError::NotFound(format!(
                "{} has no file {} at {} (the server answered 404); the catalog entry may be out of date",
                file.repo, file.file, config.endpoint
            ))),
            Some(code) if (400..500).contains(&code) && code != 408 && code != 429 => Failure::Permanent(
                ModelsError::Fetch(format!("the server refused the download of {} (HTTP {code})", file.id)),
            ),
            Some(code) => Failure::Transient(format!("the server answered HTTP {code}")),
            None if re.is_connect() => Failure::Offline(first_cause(re)),
            None => Failure::Transient(format!("the connection failed ({})", first_cause(re))),
        },
        ApiError::IoError(io) if is_disk_full(io) => {
            let s = tracker.snapshot();
            Failure::Permanent(ModelsError::DiskFull {
                path: config.cache_dir.display().to_string(),
                needed: s.total.saturating_sub(s.done),
                available: free_space(&config.cache_dir).unwrap_or(0),
                kept: s.done,
            })
        }
        ApiError::IoError(io) => Failure::Permanent(ModelsError::Fetch(format!(
            "cannot write the download into {} ({io})",
            config.cache_dir.display()
        ))),
        ApiError::LockAcquisition(_) => Failure::Permanent(ModelsError::Fetch(format!(
            "{} is being downloaded by another program right now; wait for it to finish",
            file.id
        ))),
        ApiError::MissingHeader(_) | ApiError::InvalidHeader(_) | ApiError::ToStr(_) | ApiError::ParseIntError(_) => {
            Failure::Permanent(ModelsError::Fetch(format!(
                "{} does not answer like the Hugging Face hub ({e}); check the download address in Settings",
                config.endpoint
            )))
        }
        other => Failure::Transient(other.to_string()),
    }
}

/// The innermost cause of a request error, which says what actually happened
/// ("connection refused", "dns error: …") instead of reqwest's outer summary.
fn first_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Checks the finished file against the catalog's SHA-256, or the hub's etag when that is
/// a SHA-256 (LFS files). A mismatch deletes the file.
fn verify(file: &HubFile, pointer: &Path, events: &mut dyn FnMut(DownloadEvent)) -> Result<()> {
    let blob = std::fs::canonicalize(pointer)?;
    let etag = blob.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let expected = match &file.sha256 {
        Some(sha) => sha.clone(),
        None if etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit()) => etag.to_ascii_lowercase(),
        // Not an LFS file: the hub gives no content checksum to compare with.
        None => return Ok(()),
    };
    let actual = sha256_file(&blob, &mut |done, total| {
        events(DownloadEvent::Verifying { id: file.id.clone(), done_bytes: done, total_bytes: total })
    })?;
    if actual != expected {
        let _ = std::fs::remove_file(pointer);
        std::fs::remove_file(&blob)?;
        return Err(ModelsError::Checksum { id: file.id.clone(), expected, actual });
    }
    Ok(())
}

/// Byte counts hf-hub reports through its [`Progress`] callbacks, read by the loop above.
#[derive(Clone, Default)]
struct Tracker(Arc<TrackerState>);

#[derive(Default)]
struct TrackerState {
    total: AtomicU64,
    done: AtomicU64,
    resumed: AtomicU64,
    /// Bytes that arrived over the network, over all attempts.
    received: AtomicU64,
    /// hf-hub's first `update` after `init` is the resumed offset, not new bytes.
    awaiting_offset: AtomicBool,
    epoch: std::sync::OnceLock<Instant>,
    /// Microseconds since `epoch` of the last byte; 0 = none yet this attempt.
    last_activity_us: AtomicU64,
}

#[derive(Clone, Copy, Debug)]
struct Snapshot {
    /// hf-hub has reported where this attempt starts.
    offset_known: bool,
    total: u64,
    done: u64,
    resumed: u64,
    received: u64,
}

impl Tracker {
    fn epoch(&self) -> Instant {
        *self.0.epoch.get_or_init(Instant::now)
    }

    fn begin_attempt(&self) {
        self.epoch();
        self.0.last_activity_us.store(0, Ordering::SeqCst);
    }

    fn touch(&self) {
        let us = self.epoch().elapsed().as_micros() as u64;
        self.0.last_activity_us.store(us.max(1), Ordering::SeqCst);
    }

    fn last_activity(&self) -> Option<Instant> {
        match self.0.last_activity_us.load(Ordering::SeqCst) {
            0 => None,
            us => Some(self.epoch() + Duration::from_micros(us)),
        }
    }

    fn snapshot(&self) -> Snapshot {
        let s = &self.0;
        Snapshot {
            offset_known: !s.awaiting_offset.load(Ordering::SeqCst),
            total: s.total.load(Ordering::SeqCst),
            done: s.done.load(Ordering::SeqCst),
            resumed: s.resumed.load(Ordering::SeqCst),
            received: s.received.load(Ordering::SeqCst),
        }
    }
}

impl Progress for Tracker {
    async fn init(&mut self, size: usize, _filename: &str) {
        self.0.total.store(size as u64, Ordering::SeqCst);
        self.0.done.store(0, Ordering::SeqCst);
        self.0.awaiting_offset.store(true, Ordering::SeqCst);
        // The server answered: that counts as activity for the stall timer.
        self.touch();
    }

    async fn update(&mut self, size: usize) {
        let size = size as u64;
        if self.0.awaiting_offset.load(Ordering::SeqCst) {
            // Only the first attempt's offset is what an earlier run left behind. The flag
            // is cleared last, so a reader that sees it cleared sees the offset too.
            if self.0.received.load(Ordering::SeqCst) == 0 {
                self.0.resumed.store(size, Ordering::SeqCst);
            }
            self.0.done.fetch_add(size, Ordering::SeqCst);
            self.0.awaiting_offset.store(false, Ordering::SeqCst);
        } else {
            self.0.done.fetch_add(size, Ordering::SeqCst);
            self.0.received.fetch_add(size, Ordering::SeqCst);
            self.touch();
        }
    }

    async fn finish(&mut self) {}
}
