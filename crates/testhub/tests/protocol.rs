//! The hub protocol as hf-hub 0.4 uses it: resolve redirects, CDN ranges, direct mode, errors, gating.

mod common;

use common::{data, get, request, sha256_hex, split_url, temp_path};
use std::io::BufReader;
use std::net::TcpStream;
use tandem_testhub::{Request, TestHub};

const LEN: usize = 100_000;

fn resolve_url(hub: &TestHub, repo: &str, file: &str) -> String {
    format!("{}/{repo}/resolve/main/{file}", hub.endpoint())
}

#[test]
fn resolve_redirects_to_the_cdn_with_the_hubs_headers() {
    let hub = TestHub::start();
    let bytes = data(LEN);
    hub.add_file("org/repo", "model.gguf", bytes.clone());
    let sha = sha256_hex(&bytes);

    let meta = get(&resolve_url(&hub, "org/repo", "model.gguf"), Some("bytes=0-0"));
    assert_eq!(meta.status, 302);
    assert!(meta.body.is_empty());
    let commit = meta.header("x-repo-commit").unwrap();
    assert_eq!(commit.len(), 40);
    assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(Some(commit.to_string()), hub.commit("org/repo"));
    assert_eq!(meta.header("x-linked-etag"), Some(format!("\"{sha}\"").as_str()));
    assert_eq!(meta.header("x-linked-size"), Some(LEN.to_string().as_str()));
    let etag = meta.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag != meta.header("x-linked-etag").unwrap());

    // Absolute, and on another port: hf-hub's metadata client must not follow it.
    let location = meta.header("location").unwrap();
    let (cdn_authority, cdn_path) = split_url(location);
    assert_ne!(cdn_authority, split_url(&hub.endpoint()).0);
    assert!(cdn_authority.starts_with("127.0.0.1:"));
    assert_eq!(cdn_path, format!("/cdn/{sha}/model.gguf"));

    let size = get(location, Some("bytes=0-0"));
    assert_eq!(size.status, 206);
    assert_eq!(size.header("content-range"), Some(format!("bytes 0-0/{LEN}").as_str()));
    assert_eq!(size.body, &bytes[..1]);
}

#[test]
fn cdn_answers_first_middle_last_overlong_and_open_ranges() {
    let hub = TestHub::start();
    let bytes = data(LEN);
    hub.add_file("org/repo", "model.gguf", bytes.clone());
    let location =
        get(&resolve_url(&hub, "org/repo", "model.gguf"), Some("bytes=0-0")).header("location").unwrap().to_string();
    let last = LEN - 1;
    let cases = [
        ("bytes=0-9999".to_string(), 0, 9999),
        ("bytes=40000-49999".to_string(), 40_000, 49_999),
        (format!("bytes={}-{last}", LEN - 100), LEN - 100, last),
        // hf-hub asks for one byte past the end on its last chunk.
        (format!("bytes=90000-{LEN}"), 90_000, last),
        ("bytes=99990-".to_string(), 99_990, last),
        (format!("bytes={last}-{last}"), last, last),
    ];
    for (range, start, stop) in cases {
        let answer = get(&location, Some(&range));
        assert_eq!(answer.status, 206, "{range}");
        assert_eq!(answer.header("content-range"), Some(format!("bytes {start}-{stop}/{LEN}").as_str()), "{range}");
        assert_eq!(answer.header("content-length"), Some((stop - start + 1).to_string().as_str()), "{range}");
        assert_eq!(answer.header("accept-ranges"), Some("bytes"));
        assert!(answer.body == bytes[start..=stop], "{range}: wrong bytes");
    }

    let whole = get(&location, None);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-range"), None);
    assert_eq!(whole.header("content-length"), Some(LEN.to_string().as_str()));
    assert!(whole.body == bytes);

    let beyond = get(&location, Some(&format!("bytes={LEN}-")));
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some(format!("bytes */{LEN}").as_str()));
}

#[test]
fn direct_mode_serves_bytes_from_the_resolve_url() {
    let hub = TestHub::start();
    let bytes = data(LEN);
    hub.add_file("org/direct", "model.gguf", bytes.clone());
    hub.set_direct("org/direct", true);
    let url = resolve_url(&hub, "org/direct", "model.gguf");

    let meta = get(&url, Some("bytes=0-0"));
    assert_eq!(meta.status, 206);
    assert_eq!(meta.header("etag"), Some(format!("\"{}\"", sha256_hex(&bytes)).as_str()));
    assert_eq!(meta.header("x-linked-etag"), None);
    assert_eq!(meta.header("x-repo-commit"), hub.commit("org/direct").as_deref());
    assert_eq!(meta.header("content-range"), Some(format!("bytes 0-0/{LEN}").as_str()));

    let chunk = get(&url, Some("bytes=1000-1999"));
    assert_eq!(chunk.status, 206);
    assert!(chunk.body == bytes[1000..2000]);
    assert!(get(&url, None).body == bytes);
    assert!(hub.requests().iter().all(|r| !r.path.starts_with("/cdn/")));
}

#[test]
fn unknown_repo_file_or_revision_is_404_with_an_error_code() {
    let hub = TestHub::start();
    hub.add_file("org/repo", "model.gguf", data(10));
    let endpoint = hub.endpoint();
    let cases = [
        ("org/nope/resolve/main/model.gguf", "RepoNotFound"),
        ("org/repo/resolve/main/other.gguf", "EntryNotFound"),
        ("org/repo/resolve/v9/model.gguf", "RevisionNotFound"),
    ];
    for (path, code) in cases {
        let answer = get(&format!("{endpoint}/{path}"), Some("bytes=0-0"));
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.header("x-error-code"), Some(code), "{path}");
    }
    let commit = hub.commit("org/repo").unwrap();
    assert_eq!(get(&format!("{endpoint}/org/repo/resolve/{commit}/model.gguf"), None).status, 302);
}

#[test]
fn gated_repo_wants_the_right_token() {
    let hub = TestHub::start();
    hub.add_file("org/gated", "model.gguf", data(1000));
    hub.require_token("org/gated", "hf_secret");
    let url = resolve_url(&hub, "org/gated", "model.gguf");

    assert_eq!(get(&url, Some("bytes=0-0")).status, 401);
    let wrong = request(&url, "GET", &[("Range", "bytes=0-0"), ("Authorization", "Bearer hf_wrong")]);
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.header("x-error-code"), Some("GatedRepo"));
    let right = request(&url, "GET", &[("Range", "bytes=0-0"), ("Authorization", "Bearer hf_secret")]);
    assert_eq!(right.status, 302);
    // The CDN URL is signed on the real hub: it needs no token (and clients drop it across hosts).
    assert_eq!(get(right.header("location").unwrap(), Some("bytes=0-99")).status, 206);

    hub.set_direct("org/gated", true);
    let direct = request(&url, "GET", &[("Range", "bytes=0-99"), ("Authorization", "Bearer hf_secret")]);
    assert_eq!(direct.status, 206);
    assert_eq!(direct.body.len(), 100);
}

#[test]
fn head_answers_headers_without_a_body() {
    let hub = TestHub::start();
    hub.add_file("org/repo", "model.gguf", data(LEN));
    let meta = request(&resolve_url(&hub, "org/repo", "model.gguf"), "HEAD", &[]);
    assert_eq!(meta.status, 302);
    assert!(meta.header("x-linked-etag").is_some());
    let location = meta.header("location").unwrap();
    // `request` asserts that nothing follows the head before the server closes.
    let head = request(location, "HEAD", &[("Range", "bytes=10-19")]);
    assert_eq!(head.status, 206);
    assert_eq!(head.header("content-length"), Some("10"));
    assert_eq!(head.header("content-range"), Some(format!("bytes 10-19/{LEN}").as_str()));
    assert_eq!(hub.body_bytes_sent(), 0);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let hub = TestHub::start();
    let bytes = data(LEN);
    hub.add_file("org/repo", "model.gguf", bytes.clone());
    hub.set_direct("org/repo", true);
    let (authority, path) = split_url(&resolve_url(&hub, "org/repo", "model.gguf"));
    let mut stream = TcpStream::connect(authority).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for (i, method) in ["GET", "HEAD", "GET"].into_iter().enumerate() {
        let range = format!("bytes={}-{}", i * 100, i * 100 + 49);
        common::write_request(&mut stream, method, &path, &[("Range", &range)]);
        let answer = common::read_response(&mut reader, method);
        assert_eq!(answer.status, 206);
        if method == "GET" {
            assert!(answer.body == bytes[i * 100..i * 100 + 50]);
        }
    }
}

#[test]
fn request_log_records_method_path_range_and_authorization() {
    let hub = TestHub::start();
    hub.add_file("org/repo", "model.gguf", data(1000));
    let url = resolve_url(&hub, "org/repo", "model.gguf");
    let location = request(&url, "GET", &[("Range", "bytes=0-0"), ("Authorization", "Bearer hf_x")])
        .header("location")
        .unwrap()
        .to_string();
    get(&location, Some("bytes=500-"));
    request(&url, "HEAD", &[("Range", "bytes=5-7,9-10")]);
    let sha = sha256_hex(&data(1000));
    let expected = [
        ("GET", "/org/repo/resolve/main/model.gguf".to_string(), Some((0, Some(0))), Some("Bearer hf_x")),
        ("GET", format!("/cdn/{sha}/model.gguf"), Some((500, None)), None),
        ("HEAD", "/org/repo/resolve/main/model.gguf".to_string(), None, None),
    ];
    let expected: Vec<Request> = expected
        .into_iter()
        .map(|(method, path, range, authorization)| Request {
            method: method.to_string(),
            path,
            range,
            authorization: authorization.map(str::to_string),
        })
        .collect();
    assert_eq!(hub.requests(), expected);
}

#[test]
fn serves_a_file_from_disk_and_odd_file_names() {
    let path = temp_path("disk.bin");
    let bytes = data(300_000);
    std::fs::write(&path, &bytes).unwrap();
    let hub = TestHub::start();
    hub.add_file_from_path("org/disk", "sub dir/model v1.gguf", &path).unwrap();
    let meta = get(&resolve_url(&hub, "org/disk", "sub%20dir/model%20v1.gguf"), Some("bytes=0-0"));
    assert_eq!(meta.status, 302);
    assert_eq!(meta.header("x-linked-etag"), Some(format!("\"{}\"", sha256_hex(&bytes)).as_str()));
    let location = meta.header("location").unwrap();
    assert!(location.ends_with("/sub%20dir/model%20v1.gguf"), "{location}");
    let chunk = get(location, Some("bytes=200000-300000"));
    std::fs::remove_file(&path).ok();
    assert_eq!(chunk.header("content-range"), Some("bytes 200000-299999/300000"));
    assert!(chunk.body == bytes[200_000..]);
}
