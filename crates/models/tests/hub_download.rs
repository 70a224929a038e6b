//! Downloads through hf-hub against a local server that speaks the hub's protocol
//! (resolve URLs, CDN redirects, etag and size headers, range requests), with faults
//! injected: cut connections, wrong bytes, 404, 401/403, a stalled server, pause and
//! resume, a full disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tandem_models::download::{download, DownloadControl, DownloadEvent, HubConfig, HubFile};
use tandem_models::{hub_cache, ModelsError};
use tandem_testhub::{Fault, TestHub};

const REPO: &str = "tandem-test/tiny-GGUF";
const FILE: &str = "tiny-q4_k_m.gguf";
const SIZE: usize = 3 << 20;
const CHUNK: usize = 128 << 10;

fn data(seed: u8) -> Vec<u8> {
    // Deterministic, incompressible-looking bytes.
    let mut x = 0x9E37_79B9u32 ^ seed as u32;
    (0..SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn config(cache: &Path, hub: &TestHub) -> HubConfig {
    let mut c = HubConfig::new(cache.to_path_buf());
    c.endpoint = hub.endpoint();
    c.chunk_size = CHUNK;
    c.parallel = 2;
    c.stall_timeout = Duration::from_secs(2);
    c.backoff_base = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(100);
    c
}

fn file(sha256: Option<String>) -> HubFile {
    HubFile { id: "tiny".into(), repo: REPO.into(), file: FILE.into(), sha256, size_hint: SIZE as u64 }
}

/// Runs a download, collecting its events.
fn fetch(
    file: &HubFile,
    config: &HubConfig,
    control: &DownloadControl,
) -> (Result<PathBuf, ModelsError>, Vec<DownloadEvent>) {
    let mut events = Vec::new();
    let result = download(file, config, control, &mut |e| events.push(e));
    (result, events)
}

fn no_partials_or_blobs(cache: &Path) {
    let blobs = hub_cache::repo_dir(cache, REPO).join("blobs");
    let left: Vec<_> = std::fs::read_dir(&blobs)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".lock"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(hub_cache::find(cache, REPO, FILE), None);
}

#[test]
fn a_download_lands_in_the_hub_cache_layout_verified() {
    let bytes = data(1);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &hub);

    let (path, events) = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new());
    let path = path.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // snapshots/<commit>/<file> links to blobs/<sha256>, as other hub tools expect.
    let snapshot = path.strip_prefix(hub_cache::repo_dir(dir.path(), REPO).join("snapshots")).unwrap();
    assert_eq!(snapshot.components().count(), 2);
    assert_eq!(std::fs::canonicalize(&path).unwrap().file_name().unwrap().to_str().unwrap(), sha(&bytes));
    assert_eq!(hub_cache::find(dir.path(), REPO, FILE), Some(path.clone()));

    assert!(
        matches!(&events[0], DownloadEvent::Started { total_bytes, resumed_from_bytes: 0, .. } if *total_bytes == SIZE as u64)
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, DownloadEvent::Verifying { done_bytes, .. } if *done_bytes == SIZE as u64)));
    assert!(matches!(events.last(), Some(DownloadEvent::Done { path: p, .. }) if *p == path));
    let done: Vec<u64> = events
        .iter()
        .filter_map(|e| if let DownloadEvent::Progress { done_bytes, .. } = e { Some(*done_bytes) } else { None })
        .collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {done:?}");

    // A second request finds the verified copy without asking the server.
    let asked = hub.requests().len();
    let (again, events) = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new());
    assert_eq!(again.unwrap(), path);
    assert_eq!(hub.requests().len(), asked);
    assert!(matches!(events.as_slice(), [DownloadEvent::Done { .. }]));
}

#[test]
fn without_a_catalog_checksum_the_hub_etag_is_checked() {
    let bytes = data(2);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    hub.set_direct(REPO, true);
    let dir = tempfile::tempdir().unwrap();
    let (path, events) = fetch(&file(None), &config(dir.path(), &hub), &DownloadControl::new());
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), bytes);
    assert!(events.iter().any(|e| matches!(e, DownloadEvent::Verifying { .. })));
}

fn resumes_after_a_cut_at(fraction: f64) {
    let bytes = data(3);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    hub.push_fault(FILE, Fault::CutAt(fraction));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &hub);
    cfg.parallel = 1;
    let (path, events) = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new());
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), bytes);
    assert!(events.iter().any(|e| matches!(e, DownloadEvent::Retrying { .. })), "{events:?}");
    // Continued with range requests: little more than the file crossed the wire.
    let sent = hub.body_bytes_sent() as usize;
    assert!(sent < SIZE + 2 * CHUNK, "sent {sent} bytes for a {SIZE}-byte file: it restarted instead of resuming");
    let cut = (fraction * SIZE as f64) as u64;
    assert!(
        hub.requests()
            .iter()
            .any(|r| matches!(r.range, Some((start, _)) if start >= cut.saturating_sub(CHUNK as u64) && start > 0)),
        "no range request continued near the cut"
    );
}

#[test]
fn a_connection_cut_at_30_percent_is_retried_and_resumed() {
    resumes_after_a_cut_at(0.3);
}

#[test]
fn a_connection_cut_at_90_percent_is_retried_and_resumed() {
    resumes_after_a_cut_at(0.9);
}

#[test]
fn wrong_bytes_are_caught_and_deleted() {
    let bytes = data(4);
    for catalog_sha in [Some(sha(&bytes)), None] {
        let hub = TestHub::start();
        hub.add_file(REPO, FILE, bytes.clone());
        hub.set_persistent_fault(FILE, Some(Fault::WrongBytes));
        let dir = tempfile::tempdir().unwrap();
        let (result, _) = fetch(&file(catalog_sha.clone()), &config(dir.path(), &hub), &DownloadControl::new());
        let err = result.unwrap_err();
        assert_eq!(err.code(), "checksum_mismatch", "{err}");
        assert!(err.to_string().contains("the file was deleted"), "{err}");
        no_partials_or_blobs(dir.path());
    }
}

#[test]
fn a_missing_file_is_not_found_without_retrying() {
    let hub = TestHub::start();
    hub.add_file(REPO, "other.gguf", data(5));
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = fetch(&file(None), &config(dir.path(), &hub), &DownloadControl::new());
    let err = result.unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");
    assert!(err.to_string().contains(FILE), "{err}");
    assert_eq!(hub.requests().len(), 1, "a 404 is final");
}

#[test]
fn a_gated_repo_asks_for_a_token_in_plain_words() {
    let bytes = data(6);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    hub.require_token(REPO, "hf_right");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &hub);
    for token in [None, Some("hf_wrong".to_string())] {
        cfg.token = token;
        let err = fetch(&file(None), &cfg, &DownloadControl::new()).0.unwrap_err();
        assert_eq!(err.code(), "needs_token");
        assert!(err.to_string().contains("needs a Hugging Face token and licence acceptance"), "{err}");
    }
    cfg.token = Some("hf_right".into());
    let path = fetch(&file(None), &cfg, &DownloadControl::new()).0.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), bytes);
    assert!(hub.requests().iter().any(|r| r.authorization.as_deref() == Some("Bearer hf_right")));
}

#[test]
fn cancelling_a_stalled_download_returns_promptly_and_deletes_the_partial() {
    let hub = TestHub::start();
    let bytes = data(7);
    hub.add_file(REPO, FILE, bytes.clone());
    hub.push_fault(FILE, Fault::CutAt(0.5));
    hub.set_persistent_fault(FILE, Some(Fault::Stall));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &hub);
    cfg.stall_timeout = Duration::from_secs(60);
    let control = DownloadControl::new();
    let canceller = control.clone();
    let cancelled_at = Arc::new(Mutex::new(None));
    let at = cancelled_at.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        *at.lock().unwrap() = Some(Instant::now());
        canceller.cancel();
    });
    let (result, _) = fetch(&file(Some(sha(&bytes))), &cfg, &control);
    let returned = Instant::now();
    let err = result.unwrap_err();
    assert!(matches!(err, ModelsError::Stopped { paused: false }), "{err}");
    assert_eq!(err.code(), "cancelled");
    let waited = returned - cancelled_at.lock().unwrap().expect("cancelled");
    assert!(waited < Duration::from_secs(1), "cancel took {waited:?}");
    no_partials_or_blobs(dir.path());
}

#[test]
fn a_stalled_server_is_detected_and_the_download_retried() {
    let bytes = data(8);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    hub.push_fault(FILE, Fault::Stall);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &hub);
    cfg.stall_timeout = Duration::from_millis(500);
    let (result, events) = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new());
    assert_eq!(std::fs::read(result.unwrap()).unwrap(), bytes);
    assert!(
        events.iter().any(|e| matches!(e, DownloadEvent::Retrying { reason, .. } if reason.contains("sent nothing"))),
        "{events:?}"
    );
}

#[test]
fn a_paused_download_continues_where_it_stopped() {
    let bytes = data(9);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    hub.set_throttle(Some(2 << 20));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &hub);
    cfg.parallel = 1;
    let control = DownloadControl::new();
    let mut events = Vec::new();
    let pauser = control.clone();
    let result = download(&file(Some(sha(&bytes))), &cfg, &control, &mut |e| {
        if matches!(&e, DownloadEvent::Progress { done_bytes, .. } if *done_bytes > SIZE as u64 / 3) {
            pauser.pause();
        }
        events.push(e);
    });
    assert!(matches!(result, Err(ModelsError::Stopped { paused: true })), "{result:?}");
    let paused_at = match events.last() {
        Some(DownloadEvent::Paused { done_bytes, .. }) => *done_bytes,
        other => panic!("expected a Paused event, got {other:?}"),
    };
    let partial = hub_cache::partials(dir.path(), REPO, None);
    assert_eq!(partial.len(), 1);
    assert!(partial[0].committed > 0 && partial[0].committed <= paused_at);
    assert_eq!(hub_cache::find(dir.path(), REPO, FILE), None, "nothing under the final name yet");

    hub.set_throttle(None);
    let sent_before = hub.body_bytes_sent();
    let (path, events) = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new());
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), bytes);
    match &events[0] {
        DownloadEvent::Started { resumed_from_bytes, .. } => assert_eq!(*resumed_from_bytes, partial[0].committed),
        other => panic!("expected Started, got {other:?}"),
    }
    let resent = (hub.body_bytes_sent() - sent_before) as usize;
    assert!(resent <= SIZE - partial[0].committed as usize + CHUNK, "resent {resent} bytes");
}

#[test]
fn an_unreachable_server_fails_at_once_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = HubConfig::new(dir.path().to_path_buf());
    cfg.endpoint = format!("http://127.0.0.1:{port}");
    let begun = Instant::now();
    let (result, _) = fetch(&file(None), &cfg, &DownloadControl::new());
    let err = result.unwrap_err();
    assert!(matches!(err, ModelsError::Unreachable(_)), "{err}");
    assert_eq!(err.code(), "download_failed");
    assert!(err.to_string().contains("import a GGUF file"), "{err}");
    assert!(begun.elapsed() < Duration::from_secs(5));
}

/// A small tmpfs standing in for a nearly full disk; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn new(bytes: usize) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "this test mounts a small tmpfs and needs root (as in CI)");
        SmallDisk { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_is_refused_up_front_and_mid_download_leaves_nothing_under_the_final_name() {
    let bytes = data(10);
    let hub = TestHub::start();
    hub.add_file(REPO, FILE, bytes.clone());
    let disk = SmallDisk::new(2 << 20);
    let cfg = config(disk.path(), &hub);

    // Up front: the catalog says the file is bigger than the free space.
    let err = fetch(&file(Some(sha(&bytes))), &cfg, &DownloadControl::new()).0.unwrap_err();
    assert_eq!(err.code(), "disk_full", "{err}");
    assert!(err.to_string().contains("the disk is full"), "{err}");
    assert!(hub.requests().is_empty(), "nothing was asked of the server");

    // Mid-way: a size hint that understates the file lets it start; the disk fills.
    let mut small_hint = file(Some(sha(&bytes)));
    small_hint.size_hint = 0;
    let mut cfg = cfg;
    cfg.stall_timeout = Duration::from_secs(5);
    let err = fetch(&small_hint, &cfg, &DownloadControl::new()).0.unwrap_err();
    assert_eq!(err.code(), "disk_full", "{err}");
    assert_eq!(hub_cache::find(disk.path(), REPO, FILE), None);
    let blobs = hub_cache::repo_dir(disk.path(), REPO).join("blobs");
    let finals: Vec<_> = std::fs::read_dir(blobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".sync.part") && !n.ends_with(".lock"))
        .collect();
    assert!(finals.is_empty(), "{finals:?}");
}
