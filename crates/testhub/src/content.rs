//! A served file's bytes (in memory or on disk) and their SHA-256.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone)]
enum Source {
    Memory(Arc<[u8]>),
    Disk(PathBuf),
}

/// One file's content: where its bytes live, its length and its lowercase hex SHA-256.
#[derive(Clone)]
pub(crate) struct Content {
    pub sha256: String,
    pub len: u64,
    source: Source,
}

impl Content {
    pub fn from_bytes(bytes: Arc<[u8]>) -> Content {
        Content { sha256: hex(&Sha256::digest(&bytes)), len: bytes.len() as u64, source: Source::Memory(bytes) }
    }

    /// Hashes the file once, streaming it; it is read again from disk for every request.
    pub fn from_path(path: &Path) -> io::Result<Content> {
        let mut file = File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            len += n as u64;
        }
        Ok(Content { sha256: hex(&hasher.finalize()), len, source: Source::Disk(path.to_path_buf()) })
    }

    /// A reader positioned at byte `start`.
    pub fn reader(&self, start: u64) -> io::Result<Box<dyn Read + Send>> {
        match &self.source {
            Source::Memory(bytes) => {
                let mut cursor = Cursor::new(bytes.clone());
                cursor.set_position(start);
                Ok(Box::new(cursor))
            }
            Source::Disk(path) => {
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(start))?;
                Ok(Box::new(file))
            }
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 40-hex-digit id derived from `parts`, in the shape of a git commit or blob id.
pub(crate) fn git_like_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex(&hasher.finalize()[..20])
}
