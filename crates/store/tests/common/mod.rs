//! Shared by the store's integration tests: a deterministic fake generation, and child
//! processes (this test binary run again, as one of its ignored tests).
#![allow(dead_code)] // each test binary uses its own part of this module

use std::process::{Command, Stdio};

use tandem_engine::{DrafterKind, Event, Stats, StepEvent, StopReason};

/// The text of token ids in the fake vocabulary: every id is a word.
pub fn decode(ids: &[u32]) -> String {
    ids.iter().map(|i| format!("w{i} ")).collect()
}

/// Step `i` of the fake generation; a pure function of `i`, so a test can tell exactly
/// what any stored step must be.
pub fn step(i: u64) -> StepEvent {
    let n = (i % 5) as usize;
    let drafted: Vec<u32> = (0..n as u32).map(|j| 1000 + (i as u32 % 97) * 10 + j).collect();
    let accepted = (i as usize * 7) % (n + 1);
    let token = 50_000 + i as u32;
    let mut committed = drafted[..accepted].to_vec();
    committed.push(token);
    let drafter = match i % 3 {
        0 if n > 0 => Some(DrafterKind::Ngram),
        1 if n > 0 => Some(DrafterKind::Model),
        _ if n > 0 => Some(DrafterKind::Hybrid),
        _ => None,
    };
    StepEvent { drafted, accepted, token, drafter, draft_ms: 0.5 + i as f64 / 8.0, verify_ms: 20.25, committed }
}

/// Every token committed by steps `0..n`.
pub fn tokens(n: u64) -> Vec<u32> {
    (0..n).flat_map(|i| step(i).committed).collect()
}

/// The `Done` of a fake generation of `n` steps that kept `generated` tokens.
pub fn done(n: u64, generated: usize, reason: StopReason) -> Event {
    let steps: Vec<StepEvent> = (0..n).map(step).collect();
    let drafted: usize = steps.iter().map(|s| s.drafted.len()).sum();
    let accepted: usize = steps.iter().map(|s| s.accepted).sum();
    Event::Done {
        stats: Stats {
            generated,
            drafted,
            accepted,
            acceptance_rate: if drafted == 0 { 0.0 } else { accepted as f64 / drafted as f64 },
            steps: n as usize,
            mean_accepted: 1.5,
            prefill_ms: 12.5,
            decode_ms: 400.0,
            tokens_per_second: 33.3,
            drafter: "hybrid".into(),
        },
        reason,
    }
}

/// Runs the ignored test `name` of this binary as a child process with `env` set.
/// `drop_dac`: without the capabilities that let root ignore file permissions, so that a
/// read-only folder is read-only for the child even when the tests run as root.
pub fn child(name: &str, env: &[(&str, String)], drop_dac: bool) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    if drop_dac {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the child's own state.
        unsafe {
            cmd.pre_exec(|| {
                // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: dropped from the
                // bounding set, so the exec'd child cannot have them.
                for cap in [1, 2, 3] {
                    if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                        let e = std::io::Error::last_os_error();
                        // EINVAL: no such capability on this kernel; EPERM: not privileged,
                        // so permissions already bind and there is nothing to drop.
                        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::EPERM)) {
                            return Err(e);
                        }
                    }
                }
                Ok(())
            });
        }
    }
    cmd
}

/// The value of a child's environment variable; `None` in a normal test run, where the
/// child tests are ignored anyway.
pub fn child_env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is set by the parent test; run the parent, not this child"))
}
