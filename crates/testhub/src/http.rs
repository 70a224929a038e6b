//! Just enough HTTP/1.1: reading a request head, parsing `Range`, writing a response head.

use std::io::{self, BufRead, Read, Write};

/// The most a request head may take; a longer one ends the connection.
const MAX_HEAD: u64 = 64 * 1024;

/// A request line and its headers (the body, if any, has been read and discarded).
pub(crate) struct Head {
    pub method: String,
    /// The path, percent-decoded, without the query string.
    pub path: String,
    headers: Vec<(String, String)>,
    /// The client wants the connection closed after this answer.
    pub close: bool,
}

impl Head {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `Range` header when it is one range of the form `bytes=START-` or `bytes=START-STOP` with
    /// START <= STOP; any other `Range` is ignored (as RFC 9110 allows) and the whole file is served.
    pub fn range(&self) -> Option<(u64, Option<u64>)> {
        let spec = self.header("range")?.trim().strip_prefix("bytes=")?;
        let (start, stop) = spec.split_once('-')?;
        let start = start.trim().parse().ok()?;
        match stop.trim() {
            "" => Some((start, None)),
            stop => stop.parse().ok().filter(|&stop| stop >= start).map(|stop| (start, Some(stop))),
        }
    }
}

/// Reads one request head; `Ok(None)` when the client closed the connection between requests.
pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut limited = reader.take(MAX_HEAD);
    let mut line = String::new();
    if limited.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "bad request line"));
    };
    let (method, version) = (method.to_string(), version.to_string());
    let path = percent_decode(target.split('?').next().unwrap_or(""));
    let mut headers = Vec::new();
    loop {
        line.clear();
        if limited.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "request head cut short"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut head = Head { method, path, headers, close: false };
    let connection = head.header("connection").unwrap_or("").to_ascii_lowercase();
    head.close = connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
    let body_len: u64 = head.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    io::copy(&mut reader.take(body_len), &mut io::sink())?;
    Ok(Some(head))
}

/// Writes a status line and headers in one write.
pub(crate) fn write_head(out: &mut impl Write, status: u16, headers: &[(&str, String)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything in a path but unreserved characters and `/`.
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
