//! Checking a finished file's SHA-256.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

const CHUNK: usize = 1 << 20;

/// The lower-case hex SHA-256 of `path`, reporting `(done, total)` bytes as it reads.
pub fn sha256_file(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        done += n as u64;
        if done.is_multiple_of(16 * CHUNK as u64) || done == total {
            progress(done, total);
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}
