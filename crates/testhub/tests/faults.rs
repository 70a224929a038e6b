//! Injected faults: what each one sends, and which requests take one.

mod common;

use common::{data, get, request, split_url};
use std::io::{BufReader, Read};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use tandem_testhub::{Fault, TestHub};

const LEN: usize = 100_000;

/// A hub serving `data(LEN)` as org/repo model.gguf; returns it with the CDN URL.
fn hub_with_file() -> (TestHub, Vec<u8>, String) {
    let hub = TestHub::start();
    let bytes = data(LEN);
    hub.add_file("org/repo", "model.gguf", bytes.clone());
    let meta = get(&format!("{}/org/repo/resolve/main/model.gguf", hub.endpoint()), Some("bytes=0-0"));
    (hub, bytes, meta.header("location").unwrap().to_string())
}

#[test]
fn cut_at_sends_the_bytes_up_to_the_cut_then_closes() {
    let (hub, bytes, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::CutAt(0.3));
    // Metadata requests never take the fault.
    assert_eq!(get(&cdn, Some("bytes=0-0")).body, &bytes[..1]);

    let cut = (0.3 * LEN as f64).floor() as usize;
    // `request` reads the head and the body to EOF, and asserts nothing follows.
    let answer = get(&cdn, None);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-length"), Some(LEN.to_string().as_str()));
    assert_eq!(answer.body.len(), cut);
    assert!(answer.body == bytes[..cut]);
    assert_eq!(hub.body_bytes_sent(), 1 + cut as u64);

    // The queue is empty again: the same request now gets everything.
    assert!(get(&cdn, None).body == bytes);
    assert_eq!(hub.body_bytes_sent(), 1 + (cut + LEN) as u64);
}

#[test]
fn cut_at_counts_absolute_offsets_within_a_range() {
    let (hub, bytes, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::CutAt(0.5));
    let answer = get(&cdn, Some("bytes=40000-59999"));
    assert_eq!(answer.status, 206);
    assert_eq!(answer.header("content-length"), Some("20000"));
    assert!(answer.body == bytes[40_000..50_000]);

    // A queued cut waits for the request that holds its offset; earlier ones pass whole.
    hub.push_fault("model.gguf", Fault::CutAt(0.1));
    assert!(get(&cdn, Some("bytes=50000-59999")).body == bytes[50_000..60_000]);
    assert_eq!(get(&cdn, Some("bytes=0-19999")).body.len(), 10_000);

    // A persistent cut applies to every request: a range past it gets headers, then nothing.
    hub.set_persistent_fault("model.gguf", Some(Fault::CutAt(0.1)));
    let answer = get(&cdn, Some("bytes=50000-59999"));
    assert_eq!(answer.header("content-range"), Some(format!("bytes 50000-59999/{LEN}").as_str()));
    assert!(answer.body.is_empty());
}

#[test]
fn faults_hit_the_resolve_url_in_direct_mode() {
    let (hub, bytes, _) = hub_with_file();
    hub.set_direct("org/repo", true);
    hub.push_fault("model.gguf", Fault::CutAt(0.25));
    let url = format!("{}/org/repo/resolve/main/model.gguf", hub.endpoint());
    assert_eq!(get(&url, Some("bytes=0-0")).status, 206);
    assert!(get(&url, Some("bytes=0-49999")).body == bytes[..25_000]);
}

#[test]
fn wrong_bytes_flips_the_first_byte_and_every_4096th() {
    let (hub, bytes, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::WrongBytes);
    let answer = get(&cdn, Some("bytes=1000-20999"));
    assert_eq!(answer.status, 206);
    assert_eq!(answer.body.len(), 20_000);
    let differing: Vec<usize> = (0..20_000).filter(|&i| answer.body[i] != bytes[1000 + i]).map(|i| 1000 + i).collect();
    assert_eq!(differing, [1000, 4096, 8192, 12288, 16384, 20480]);
    assert!(differing.iter().all(|&at| answer.body[at - 1000] == bytes[at] ^ 0xFF));
    assert!(get(&cdn, Some("bytes=1000-20999")).body == bytes[1000..21_000]);
}

#[test]
fn persistent_fault_applies_until_cleared_and_queued_faults_go_first() {
    let (hub, bytes, cdn) = hub_with_file();
    hub.set_persistent_fault("model.gguf", Some(Fault::WrongBytes));
    for _ in 0..2 {
        let answer = get(&cdn, Some("bytes=0-9999"));
        assert_eq!(answer.body.len(), 10_000);
        assert!(answer.body != bytes[..10_000]);
    }
    hub.push_fault("model.gguf", Fault::Status(503));
    assert_eq!(get(&cdn, Some("bytes=0-9999")).status, 503);
    assert!(get(&cdn, Some("bytes=0-9999")).body != bytes[..10_000]);
    hub.set_persistent_fault("model.gguf", None);
    assert!(get(&cdn, Some("bytes=0-9999")).body == bytes[..10_000]);
}

#[test]
fn status_faults_answer_that_status_with_an_empty_body() {
    let (hub, _, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::Status(500));
    hub.push_fault("model.gguf", Fault::Status(503));
    for expected in [500, 503, 206] {
        let answer = get(&cdn, Some("bytes=0-99"));
        assert_eq!(answer.status, expected);
        if expected != 206 {
            assert!(answer.body.is_empty());
            assert_eq!(answer.header("content-length"), Some("0"));
        }
    }
}

#[test]
fn metadata_head_one_byte_ranges_and_redirects_never_take_a_fault() {
    let (hub, _, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::Status(503));
    let resolve = format!("{}/org/repo/resolve/main/model.gguf", hub.endpoint());
    assert_eq!(get(&resolve, Some("bytes=0-9999")).status, 302);
    assert_eq!(get(&resolve, None).status, 302);
    assert_eq!(request(&cdn, "HEAD", &[]).status, 200);
    assert_eq!(get(&cdn, Some("bytes=0-0")).status, 206);
    assert_eq!(get(&cdn, Some("bytes=777-777")).status, 206);
    // Faults are per file name: another file is untouched.
    hub.add_file("org/other", "other.gguf", data(100));
    let other = get(&format!("{}/org/other/resolve/main/other.gguf", hub.endpoint()), None);
    assert_eq!(get(other.header("location").unwrap(), None).status, 200);
    assert_eq!(get(&cdn, Some("bytes=0-1")).status, 503);
}

#[test]
fn stall_sends_headers_only_and_drop_closes_it_promptly() {
    let (hub, _, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::Stall);
    let (authority, path) = split_url(&cdn);
    let mut stream = TcpStream::connect(authority).unwrap();
    common::write_request(&mut stream, "GET", &path, &[("Range", "bytes=0-9999")]);
    let mut reader = BufReader::new(stream);
    let client = thread::spawn(move || {
        let answer = common::read_response(&mut reader, "GET");
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        (answer, rest)
    });
    thread::sleep(Duration::from_millis(300));
    assert!(!client.is_finished(), "a stalled body must not end by itself");

    let began = Instant::now();
    drop(hub);
    assert!(began.elapsed() < Duration::from_secs(1), "drop took {:?}", began.elapsed());
    let (answer, rest) = client.join().unwrap();
    assert_eq!(answer.status, 206);
    assert_eq!(answer.header("content-length"), Some("10000"));
    assert!(answer.body.is_empty() && rest.is_empty());
    assert!(began.elapsed() < Duration::from_secs(2));
}

#[test]
fn drop_closes_idle_connections_and_stops_listening() {
    let (hub, _, cdn) = hub_with_file();
    let endpoint = hub.endpoint();
    let (authority, _) = split_url(&cdn);
    let mut idle = TcpStream::connect(&authority).unwrap();
    thread::sleep(Duration::from_millis(50));
    drop(hub);
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0);
    assert!(TcpStream::connect(split_url(&endpoint).0).is_err());
    assert!(TcpStream::connect(authority).is_err());
}

#[test]
fn throttle_slows_the_body_down() {
    let (hub, bytes, cdn) = hub_with_file();
    hub.push_fault("model.gguf", Fault::Throttle(20_000));
    let began = Instant::now();
    let answer = get(&cdn, Some("bytes=0-19999"));
    let elapsed = began.elapsed();
    assert!(answer.body == bytes[..20_000]);
    assert!(elapsed >= Duration::from_millis(800), "20 kB at 20 kB/s took {elapsed:?}");

    hub.set_throttle(Some(20_000));
    let began = Instant::now();
    assert!(get(&cdn, Some("bytes=0-19999")).body == bytes[..20_000]);
    assert!(began.elapsed() >= Duration::from_millis(800));

    hub.set_throttle(None);
    let began = Instant::now();
    assert!(get(&cdn, None).body == bytes);
    assert!(began.elapsed() < Duration::from_millis(500));
}
