//! A local HTTP server that speaks the part of the Hugging Face hub's download protocol that the
//! `hf-hub` crate uses, with faults injected on demand, for testing downloads against a real server.
//!
//! What it serves, per file added with [`TestHub::add_file`]:
//! - `GET|HEAD {endpoint}/{repo}/resolve/{main|commit}/{filename}` answers like the hub does for LFS
//!   files: `302 Found` with an absolute `Location` on the server's CDN port, `x-repo-commit` (40 hex),
//!   `x-linked-etag: "<sha256>"`, `x-linked-size` and an `etag` of its own. In direct mode
//!   ([`TestHub::set_direct`]) it serves the bytes itself with `etag: "<sha256>"` and `x-repo-commit`.
//! - The CDN URL `/cdn/{sha256}/{filename}` serves the bytes: `206` with `Content-Range`, or `200` with
//!   the whole file when there is no `Range`; a range reaching past the end is cut to the bytes that
//!   exist and a range starting past the end gets `416`. It needs no token, like the hub's signed URLs.
//! - Unknown repo: `404` with `x-error-code: RepoNotFound`; unknown file: `404` with `EntryNotFound`;
//!   unknown revision: `404` with `RevisionNotFound`. A gated repo ([`TestHub::require_token`]) answers
//!   `401` without `Authorization`, `403` with `x-error-code: GatedRepo` for a wrong token.
//!
//! The CDN listens on a second port because `hf-hub` follows a redirect for metadata only when it
//! stays on the same scheme, host and port; a different port makes it stop at the `302` and read the
//! hub's headers there, as it does against the real hub.
//!
//! Faults ([`Fault`]) apply only to *body requests*: a `GET` of the file's bytes (the CDN URL, or the
//! resolve URL in direct mode) with no `Range` or a `Range` asking for more than one byte. Metadata
//! requests (`bytes=0-0`), `HEAD`s and redirects never take a fault.
//!
//! ```
//! use tandem_testhub::{Fault, TestHub};
//!
//! let hub = TestHub::start();
//! hub.add_file("org/repo", "model.gguf", vec![7u8; 4096]);
//! hub.push_fault("model.gguf", Fault::CutAt(0.5)); // the first body request stops at byte 2048
//! let endpoint = hub.endpoint(); // give this to hf-hub's `ApiBuilder::with_endpoint`
//! assert!(endpoint.starts_with("http://127.0.0.1:"));
//! assert!(hub.requests().is_empty() && hub.body_bytes_sent() == 0);
//! ```

mod content;
mod http;
mod serve;
mod server;

use content::Content;
use server::{lock, Server};
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A fault injected into one body request ([`TestHub::push_fault`]) or every one
/// ([`TestHub::set_persistent_fault`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Sends the status and headers of the requested range, its full `Content-Length` included, then
    /// the body only up to absolute file offset `floor(f * file_len)`, then closes the connection.
    /// Queued, it waits for the first body request whose range holds that offset (earlier
    /// requests pass untouched); persistent, it applies to every body request (nothing is sent
    /// when a range starts at or past the cut). `f` is clamped to `0.0..=1.0`.
    CutAt(f64),
    /// Sends the right status, headers and length, but the body's first byte and every byte at an
    /// absolute file offset that is a multiple of 4096 are XORed with 0xFF: any non-empty body differs.
    WrongBytes,
    /// Sends the status and headers, then nothing; the server keeps the connection open (even if the
    /// client gives up) until the hub is dropped, which closes it.
    Stall,
    /// Answers with this status and an empty body (`Content-Length: 0`); the connection stays usable.
    Status(u16),
    /// Sends the right answer at about this many bytes per second, in small pieces (0 counts as 1).
    Throttle(u64),
}

/// One request as the server received it, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Percent-decoded path without the query string, e.g. `/org/repo/resolve/main/file.gguf`.
    pub path: String,
    /// The parsed `Range` (start, inclusive stop); `None` without one or when it was not one range.
    pub range: Option<(u64, Option<u64>)>,
    /// The `Authorization` header as sent, e.g. `Bearer hf_secret`.
    pub authorization: Option<String>,
}

/// The server. Every method takes `&self`; the hub can be shared between threads.
///
/// Dropping it stops both listeners and closes every open connection, stalled ones included.
pub struct TestHub {
    server: Server,
}

impl TestHub {
    /// Binds 127.0.0.1 on free ports and serves on background threads.
    pub fn start() -> TestHub {
        TestHub::start_on(0).expect("bind a port on 127.0.0.1")
    }

    /// Like [`TestHub::start`] with the endpoint on `port` (0: any free port).
    pub fn start_on(port: u16) -> io::Result<TestHub> {
        Ok(TestHub { server: Server::start(port)? })
    }

    /// `http://127.0.0.1:PORT`, for `HF_ENDPOINT` or `ApiBuilder::with_endpoint`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint.clone()
    }

    /// Serves `bytes` as `repo`'s `filename` at revision `main` (replacing any file of that name).
    pub fn add_file(&self, repo: &str, filename: &str, bytes: impl Into<Arc<[u8]>>) {
        self.insert(repo, filename, Content::from_bytes(bytes.into()));
    }

    /// Serves the file at `path`, read from disk on every request; its SHA-256 is computed now.
    pub fn add_file_from_path(&self, repo: &str, filename: &str, path: impl AsRef<Path>) -> io::Result<()> {
        self.insert(repo, filename, Content::from_path(path.as_ref())?);
        Ok(())
    }

    fn insert(&self, repo_id: &str, filename: &str, content: Content) {
        let mut state = lock(&self.server.shared.state);
        let repo = state.repos.entry(repo_id.to_string()).or_default();
        repo.files.insert(filename.to_string(), content);
        let mut parts = vec![repo_id];
        for (name, content) in &repo.files {
            parts.extend([name.as_str(), content.sha256.as_str()]);
        }
        repo.commit = content::git_like_id(&parts);
    }

    /// The repo's current `x-repo-commit` (it changes whenever a file is added).
    pub fn commit(&self, repo: &str) -> Option<String> {
        lock(&self.server.shared.state).repos.get(repo).map(|r| r.commit.clone())
    }

    /// Direct mode: the resolve URL serves the bytes itself instead of redirecting to the CDN.
    pub fn set_direct(&self, repo: &str, direct: bool) {
        lock(&self.server.shared.state).repos.entry(repo.to_string()).or_default().direct = direct;
    }

    /// Gates the repo: its resolve URLs need `Authorization: Bearer {token}`.
    pub fn require_token(&self, repo: &str, token: &str) {
        lock(&self.server.shared.state).repos.entry(repo.to_string()).or_default().token = Some(token.to_string());
    }

    /// Queues a fault for the next body request of any file named `filename`; each body request
    /// takes one queued fault, in order, before a persistent one is considered.
    pub fn push_fault(&self, filename: &str, fault: Fault) {
        lock(&self.server.shared.state).queued.entry(filename.to_string()).or_default().push_back(fault);
    }

    /// A fault for every body request of `filename` that finds no queued fault, until set to `None`.
    pub fn set_persistent_fault(&self, filename: &str, fault: Option<Fault>) {
        let mut state = lock(&self.server.shared.state);
        match fault {
            Some(fault) => state.persistent.insert(filename.to_string(), fault),
            None => state.persistent.remove(filename),
        };
    }

    /// Throttles every body that has no `Throttle` fault of its own to about this many bytes per second.
    pub fn set_throttle(&self, bytes_per_second: Option<u64>) {
        lock(&self.server.shared.state).throttle = bytes_per_second;
    }

    /// Every request received so far, in arrival order, on both ports.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.server.shared.log).clone()
    }

    /// Total body bytes written to sockets so far (file bytes only, not headers).
    pub fn body_bytes_sent(&self) -> u64 {
        self.server.shared.sent.load(Ordering::SeqCst)
    }
}
