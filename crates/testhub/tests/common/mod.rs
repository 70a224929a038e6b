//! A plain blocking HTTP/1.1 client over std's TcpStream, enough to check the server's answers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `http://HOST:PORT/PATH` → (`HOST:PORT`, `/PATH`).
pub fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    (authority.to_string(), format!("/{path}"))
}

pub fn write_request(stream: &mut TcpStream, method: &str, path: &str, headers: &[(&str, &str)]) {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nUser-Agent: testhub-tests\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
}

/// Reads one response: the head, then up to `Content-Length` body bytes (fewer if the server
/// closes first; none for `HEAD`).
pub fn read_response(reader: &mut impl BufRead, method: &str) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).expect("a status line").parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut response = Response { status, headers, body: Vec::new() };
    let len: u64 = response.header("content-length").map_or(0, |v| v.parse().unwrap());
    if method != "HEAD" {
        let _ = reader.take(len).read_to_end(&mut response.body);
    }
    response
}

/// One request on a fresh connection with `Connection: close`; asserts the server then closes it.
pub fn request(url: &str, method: &str, headers: &[(&str, &str)]) -> Response {
    let (authority, path) = split_url(url);
    let mut stream = TcpStream::connect(&authority).unwrap();
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    write_request(&mut stream, method, &path, &all);
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, method);
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{} bytes after the body", rest.len());
    response
}

pub fn get(url: &str, range: Option<&str>) -> Response {
    match range {
        Some(range) => request(url, "GET", &[("Range", range)]),
        None => request(url, "GET", &[]),
    }
}

/// Deterministic, non-repeating test content.
pub fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A path in the system temp dir unique to this process and `name`.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tandem-testhub-{}-{name}", std::process::id()))
}
