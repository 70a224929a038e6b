//! One connection: route each request (resolve URL or CDN URL), apply faults, send bodies.

use crate::content::{git_like_id, Content};
use crate::http::{self, Head};
use crate::server::{lock, Shared};
use crate::{Fault, Request};
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

type Headers = Vec<(&'static str, String)>;

/// Serves requests on one connection (HTTP/1.1 keep-alive) until either side closes it.
pub(crate) fn connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    while let Ok(Some(head)) = http::read_head(&mut reader) {
        let authorization = head.header("authorization").map(str::to_string);
        let request =
            Request { method: head.method.clone(), path: head.path.clone(), range: head.range(), authorization };
        lock(&shared.log).push(request);
        match respond(shared, &head, &mut out) {
            Ok(true) if !head.close => {}
            _ => break,
        }
    }
    let _ = out.flush();
    let _ = out.shutdown(Shutdown::Both);
}

/// Answers one request; `Ok(true)` when the connection may serve another.
fn respond(shared: &Shared, head: &Head, out: &mut TcpStream) -> io::Result<bool> {
    if head.method != "GET" && head.method != "HEAD" {
        return empty(out, 405, vec![]);
    }
    if let Some(rest) = head.path.strip_prefix("/cdn/") {
        let (sha, filename) = rest.split_once('/').unwrap_or((rest, ""));
        return match find_by_sha(shared, sha) {
            Some(content) => serve_bytes(shared, head, out, &content, filename, vec![("ETag", format!("\"{sha}\""))]),
            None => empty(out, 404, vec![]),
        };
    }
    let (content, filename, commit, direct) = match resolve(shared, head) {
        Ok(found) => found,
        Err((status, code)) => {
            return empty(out, status, code.map(|c| ("x-error-code", c.to_string())).into_iter().collect())
        }
    };
    let sha = &content.sha256;
    if direct {
        let headers = vec![("ETag", format!("\"{sha}\"")), ("x-repo-commit", commit)];
        return serve_bytes(shared, head, out, &content, &filename, headers);
    }
    let location = format!("{}/cdn/{sha}/{}", shared.cdn, http::percent_encode(&filename));
    let headers = vec![
        ("Location", location),
        ("x-repo-commit", commit),
        ("x-linked-etag", format!("\"{sha}\"")),
        ("x-linked-size", content.len.to_string()),
        ("ETag", format!("\"{}\"", git_like_id(&["blob", sha]))),
    ];
    empty(out, 302, headers)
}

/// Looks up `/{repo}/resolve/{revision}/{filename}`: (content, filename, commit, direct), or the
/// status and `x-error-code` to answer.
#[allow(clippy::type_complexity)]
fn resolve(shared: &Shared, head: &Head) -> Result<(Content, String, String, bool), (u16, Option<&'static str>)> {
    let path = head.path.strip_prefix('/').unwrap_or(&head.path);
    let (repo_id, rest) = path.split_once("/resolve/").ok_or((404, None))?;
    let state = lock(&shared.state);
    let repo = state.repos.get(repo_id).ok_or((404, Some("RepoNotFound")))?;
    if let Some(token) = &repo.token {
        match head.header("authorization") {
            None => return Err((401, Some("GatedRepo"))),
            Some(auth) if auth != format!("Bearer {token}") => return Err((403, Some("GatedRepo"))),
            Some(_) => {}
        }
    }
    let (revision, filename) = rest.split_once('/').ok_or((404, Some("EntryNotFound")))?;
    if revision != "main" && revision != repo.commit {
        return Err((404, Some("RevisionNotFound")));
    }
    let content = repo.files.get(filename).ok_or((404, Some("EntryNotFound")))?;
    Ok((content.clone(), filename.to_string(), repo.commit.clone(), repo.direct))
}

fn find_by_sha(shared: &Shared, sha: &str) -> Option<Content> {
    let state = lock(&shared.state);
    state.repos.values().flat_map(|repo| repo.files.values()).find(|c| c.sha256 == sha).cloned()
}

/// Answers with the requested range of `content`, applying the fault this request takes, if any.
fn serve_bytes(
    shared: &Shared,
    head: &Head,
    out: &mut TcpStream,
    content: &Content,
    filename: &str,
    mut headers: Headers,
) -> io::Result<bool> {
    let len = content.len;
    let range = head.range();
    let (status, start, end) = match range {
        None => (200, 0, len),
        Some((start, _)) if start >= len => {
            headers.push(("Content-Range", format!("bytes */{len}")));
            return empty(out, 416, headers);
        }
        Some((start, stop)) => (206, start, stop.map_or(len, |stop| stop.saturating_add(1).min(len))),
    };
    let body_request = head.method == "GET" && range.is_none_or(|(start, stop)| stop != Some(start));
    let (fault, throttle) = if body_request { take_fault(shared, filename, start, end, len) } else { (None, None) };
    if let Some(Fault::Status(code)) = fault {
        return empty(out, code, vec![]);
    }
    headers.push(("Content-Length", (end - start).to_string()));
    headers.push(("Accept-Ranges", "bytes".to_string()));
    headers.push(("Content-Type", "application/octet-stream".to_string()));
    if status == 206 {
        headers.push(("Content-Range", format!("bytes {start}-{}/{len}", end - 1)));
    }
    http::write_head(out, status, &headers)?;
    if head.method == "HEAD" {
        return Ok(true);
    }
    let rate = match fault {
        Some(Fault::Throttle(rate)) => Some(rate),
        _ => throttle,
    };
    match fault {
        Some(Fault::Stall) => {
            shared.wait_for_stop();
            Ok(false)
        }
        Some(Fault::CutAt(f)) => {
            let cut = (f.clamp(0.0, 1.0) * len as f64).floor() as u64;
            send_body(shared, out, content, start, cut.clamp(start, end) - start, false, rate)?;
            Ok(false)
        }
        _ => {
            send_body(shared, out, content, start, end - start, fault == Some(Fault::WrongBytes), rate)?;
            Ok(true)
        }
    }
}

/// The next queued fault for `filename`, else its persistent one; and the hub-wide throttle.
/// A queued `CutAt` waits for the body request whose bytes `start..end` hold the cut, so
/// that "cut at 30%" means 30% of the file whatever the client's chunk size.
fn take_fault(shared: &Shared, filename: &str, start: u64, end: u64, len: u64) -> (Option<Fault>, Option<u64>) {
    let mut state = lock(&shared.state);
    let queued = state.queued.get_mut(filename).and_then(|queue| match queue.front() {
        Some(Fault::CutAt(f)) => {
            let cut = (f.clamp(0.0, 1.0) * len as f64).floor() as u64;
            if (start..end.max(start + 1)).contains(&cut) {
                queue.pop_front()
            } else {
                None
            }
        }
        _ => queue.pop_front(),
    });
    (queued.or_else(|| state.persistent.get(filename).copied()), state.throttle)
}

/// Writes `n` bytes of `content` from `start`, corrupted when `wrong`, paced when `rate` is set.
fn send_body(
    shared: &Shared,
    out: &mut TcpStream,
    content: &Content,
    start: u64,
    n: u64,
    wrong: bool,
    rate: Option<u64>,
) -> io::Result<()> {
    let mut reader = content.reader(start)?.take(n);
    let rate = rate.map(|rate| rate.max(1));
    let piece = rate.map_or(1 << 16, |rate| (rate / 20).clamp(1, 1 << 16)) as usize;
    let mut buf = vec![0u8; piece];
    let began = Instant::now();
    let mut done = 0u64;
    while done < n {
        let k = reader.read(&mut buf)?;
        if k == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shorter than when it was added"));
        }
        if wrong {
            for (i, byte) in buf[..k].iter_mut().enumerate() {
                let offset = start + done + i as u64;
                if offset == start || offset.is_multiple_of(4096) {
                    *byte ^= 0xFF;
                }
            }
        }
        if let Some(rate) = rate {
            if !shared.sleep_until(began + Duration::from_secs_f64(done as f64 / rate as f64)) {
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "hub stopped"));
            }
        }
        out.write_all(&buf[..k])?;
        shared.sent.fetch_add(k as u64, Ordering::SeqCst);
        done += k as u64;
    }
    Ok(())
}

/// An answer with no body.
fn empty(out: &mut TcpStream, status: u16, mut headers: Headers) -> io::Result<bool> {
    headers.push(("Content-Length", "0".to_string()));
    http::write_head(out, status, &headers)?;
    Ok(true)
}
