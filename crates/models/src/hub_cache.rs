//! The Hugging Face cache layout, shared with every other tool that uses the hub:
//!
//! ```text
//! <cache>/models--<org>--<name>/blobs/<etag>            file contents, named by etag (sha256 for LFS files)
//! <cache>/models--<org>--<name>/blobs/<etag>.sync.part  a download in progress (hf-hub's resumable format)
//! <cache>/models--<org>--<name>/snapshots/<commit>/<file> -> ../../blobs/<etag>
//! <cache>/models--<org>--<name>/refs/main               the commit `main` pointed at
//! ```
//!
//! Files another tool downloaded are found here and reused; ours are usable by them.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The hub cache directory from `HF_HUB_CACHE`, `HF_HOME`, `XDG_CACHE_HOME` and `HOME`, in
/// the order the Python `huggingface_hub` library uses them. Empty values count as unset.
pub fn hub_cache_dir_from(
    hf_hub_cache: Option<OsString>,
    hf_home: Option<OsString>,
    xdg_cache: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(hf_hub_cache) {
        return Some(dir);
    }
    if let Some(dir) = set(hf_home) {
        return Some(dir.join("hub"));
    }
    if let Some(dir) = set(xdg_cache).filter(|p| p.is_absolute()) {
        return Some(dir.join("huggingface").join("hub"));
    }
    set(home).map(|h| h.join(".cache").join("huggingface").join("hub"))
}

/// The hub cache directory for this process's environment.
pub fn hub_cache_dir() -> Option<PathBuf> {
    let var = std::env::var_os;
    hub_cache_dir_from(var("HF_HUB_CACHE"), var("HF_HOME"), var("XDG_CACHE_HOME"), home_var())
}

fn home_var() -> Option<OsString> {
    std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))
}

/// `models--org--name` for `org/name`.
pub fn repo_folder(repo: &str) -> String {
    format!("models--{}", repo.replace('/', "--"))
}

/// The folder of one model repository inside the cache.
pub fn repo_dir(cache: &Path, repo: &str) -> PathBuf {
    cache.join(repo_folder(repo))
}

/// The cached copy of `file` from `repo`: the snapshot `refs/main` points at, else the most
/// recent snapshot that has the file. Dangling links (blob deleted) do not count.
pub fn find(cache: &Path, repo: &str, file: &str) -> Option<PathBuf> {
    let dir = repo_dir(cache, repo);
    if let Ok(commit) = fs::read_to_string(dir.join("refs").join("main")) {
        let path = dir.join("snapshots").join(commit.trim()).join(file);
        if path.is_file() {
            return Some(path);
        }
    }
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for snapshot in fs::read_dir(dir.join("snapshots")).ok()?.flatten() {
        let path = snapshot.path().join(file);
        if let Ok(meta) = fs::metadata(&path) {
            let time = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            if meta.is_file() && best.as_ref().is_none_or(|(t, _)| time > *t) {
                best = Some((time, path));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// [`find`], and when `sha256` is given only a copy stored as the blob of that name: the
/// hub names LFS blobs by their SHA-256, so a differently named one is another version.
pub fn find_verified(cache: &Path, repo: &str, file: &str, sha256: Option<&str>) -> Option<PathBuf> {
    let path = find(cache, repo, file)?;
    match sha256 {
        None => Some(path),
        Some(sha) => {
            let blob = fs::canonicalize(&path).ok()?;
            (blob.file_name()?.to_str()? == sha).then_some(path)
        }
    }
}

/// A download in progress in hf-hub's resumable format: the file's full length of data
/// followed by 8 bytes holding how many leading bytes are committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    pub path: PathBuf,
    pub committed: u64,
    pub total: u64,
}

/// The partial downloads in `repo`'s blob folder; with `etag`, only that blob's.
pub fn partials(cache: &Path, repo: &str, etag: Option<&str>) -> Vec<Partial> {
    let blobs = repo_dir(cache, repo).join("blobs");
    let Ok(entries) = fs::read_dir(&blobs) else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sync.part") else { continue };
        if etag.is_some_and(|e| e != stem) {
            continue;
        }
        if let Some(p) = read_partial(&entry.path()) {
            found.push(p);
        }
    }
    found
}

fn read_partial(path: &Path) -> Option<Partial> {
    let mut f = fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let total = len.checked_sub(8)?;
    f.seek(SeekFrom::Start(total)).ok()?;
    let mut buf = [0u8; 8];
    f.read_exact(&mut buf).ok()?;
    let committed = u64::from_le_bytes(buf).min(total);
    Some(Partial { path: path.to_path_buf(), committed, total })
}

/// Deletes `repo`'s partial downloads (all of them, or the one for `etag`) and their locks.
pub fn remove_partials(cache: &Path, repo: &str, etag: Option<&str>) -> std::io::Result<()> {
    for p in partials(cache, repo, etag) {
        fs::remove_file(&p.path)?;
        let lock = p.path.with_extension("").with_extension("lock");
        let _ = fs::remove_file(lock);
    }
    Ok(())
}

/// Removes `file` of `repo` from every snapshot, and the blobs those links pointed at.
/// Returns the bytes freed.
pub fn remove(cache: &Path, repo: &str, file: &str) -> std::io::Result<u64> {
    let dir = repo_dir(cache, repo);
    let mut freed = 0;
    let Ok(snapshots) = fs::read_dir(dir.join("snapshots")) else { return Ok(0) };
    for snapshot in snapshots.flatten() {
        let link = snapshot.path().join(file);
        if fs::symlink_metadata(&link).is_err() {
            continue;
        }
        if let Ok(blob) = fs::canonicalize(&link) {
            if blob != link {
                freed += fs::metadata(&blob).map(|m| m.len()).unwrap_or(0);
                fs::remove_file(&blob)?;
            } else {
                freed += fs::metadata(&link).map(|m| m.len()).unwrap_or(0);
            }
        }
        fs::remove_file(&link)?;
    }
    Ok(freed)
}

/// A GGUF file somewhere in the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedFile {
    pub repo: String,
    pub file: String,
    pub path: PathBuf,
}

/// Every `.gguf` file in the cache's model snapshots (one entry per repo and file name).
pub fn scan(cache: &Path) -> Vec<CachedFile> {
    let mut out = Vec::new();
    let Ok(repos) = fs::read_dir(cache) else { return out };
    for repo in repos.flatten() {
        let name = repo.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("models--") else { continue };
        let repo_id = rest.replacen("--", "/", 1);
        let mut seen = std::collections::BTreeSet::new();
        let Ok(snapshots) = fs::read_dir(repo.path().join("snapshots")) else { continue };
        for snapshot in snapshots.flatten() {
            collect_gguf(&snapshot.path(), &snapshot.path(), &mut |rel, path| {
                if seen.insert(rel.clone()) {
                    if let Some(found) = find(cache, &repo_id, &rel) {
                        out.push(CachedFile { repo: repo_id.clone(), file: rel, path: found });
                    } else {
                        out.push(CachedFile { repo: repo_id.clone(), file: rel, path });
                    }
                }
            });
        }
    }
    out.sort_by(|a, b| (&a.repo, &a.file).cmp(&(&b.repo, &b.file)));
    out
}

/// Calls `f(relative name, path)` for every readable `.gguf` file under `dir`, two levels deep.
fn collect_gguf(root: &Path, dir: &Path, f: &mut dyn FnMut(String, PathBuf)) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.strip_prefix(root).map(|p| p.components().count()).unwrap_or(9) < 2 {
                collect_gguf(root, &path, f);
            }
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) && path.is_file() {
            if let Ok(rel) = path.strip_prefix(root) {
                f(rel.to_string_lossy().replace('\\', "/"), path.clone());
            }
        }
    }
}
