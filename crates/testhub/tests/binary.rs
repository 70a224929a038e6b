//! The `tandem-testhub` binary: prints its endpoint, serves files from disk, applies --cut-at.

mod common;

use common::{data, get, temp_path};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_serves_files_and_cuts_the_first_body_request() {
    let path = temp_path("binary.bin");
    let bytes = data(50_000);
    std::fs::write(&path, &bytes).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem-testhub"))
        .args(["--serve", "org/repo", "model.gguf"])
        .arg(&path)
        .args(["--cut-at", "0.5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let outcome = std::panic::catch_unwind(|| {
        let endpoint = line.trim().strip_prefix("endpoint ").expect("an endpoint line");
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        let meta = get(&format!("{endpoint}/org/repo/resolve/main/model.gguf"), Some("bytes=0-0"));
        assert_eq!(meta.status, 302);
        let cdn = meta.header("location").unwrap();
        assert_eq!(get(cdn, Some("bytes=0-0")).header("content-range"), Some("bytes 0-0/50000"));
        assert!(get(cdn, None).body == bytes[..25_000]);
        assert!(get(cdn, None).body == bytes);
    });
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&path).ok();
    outcome.unwrap();
}

#[test]
fn binary_without_files_to_serve_prints_usage_and_fails() {
    let output = Command::new(env!("CARGO_BIN_EXE_tandem-testhub")).arg("--throttle").arg("10").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: tandem-testhub"));
    assert!(output.stdout.is_empty());
}
