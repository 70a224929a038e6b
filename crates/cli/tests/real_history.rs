//! `tandem generate --db` with a real model: a two-turn conversation, and a generating
//! process SIGKILLed at random moments, 20 times.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tandem_models::Tokenizer;
use tandem_store::{MessageStatus, Role, Store, TraceStep};

const SMOL: &str = "smollm2-135m-instruct";

fn model_path(id: &str) -> std::path::PathBuf {
    tandem_models::cache::resolve(id)
        .unwrap_or_else(|e| panic!("{e}\n(the README's test command fetches every model the tests use)"))
}

fn generate(db: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.args(["generate", "--target", SMOL, "--drafter", "ngram"]).arg("--db").arg(db).args(extra);
    cmd
}

fn replay(trace: &[TraceStep]) -> Vec<u32> {
    trace.iter().flat_map(TraceStep::committed_tokens).collect()
}

#[test]
fn real_two_turns_are_saved_with_stats_and_trace_and_the_second_sees_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let turn = |prompt: &str, conversation: &str| -> serde_json::Value {
        let out = generate(&db, &["--max-tokens", "40", "--json", "--conversation", conversation, "--prompt", prompt])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("history: conversation 1 · message"), "{err}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = turn("Name three rivers in Europe.", "new");
    let second = turn("Which of them is the longest?", "1");

    let store = Store::open(&db).unwrap();
    let c = store.conversation(1).unwrap();
    assert_eq!((c.title.as_str(), c.messages), ("Name three rivers in Europe.", 4));
    let pair = c.pair.unwrap();
    assert_eq!((pair.target.as_str(), pair.draft, pair.drafter.as_str()), (SMOL, None, "ngram"));
    assert_eq!(c.settings["max_tokens"], 40);
    let m = store.messages(1).unwrap();
    let roles: Vec<Role> = m.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::Assistant]);
    assert_eq!(m[2].text, "Which of them is the longest?");
    let mut prompt_tokens = Vec::new();
    for (answer, out) in [(&m[1], &first), (&m[3], &second)] {
        assert_eq!(answer.status, MessageStatus::Complete);
        assert_eq!(answer.text, out["text"].as_str().unwrap());
        let stats = answer.stats.clone().unwrap();
        assert_eq!(serde_json::to_value(stats.generated).unwrap(), out["stats"]["generated"]);
        assert_eq!(serde_json::to_value(stats.steps).unwrap(), out["stats"]["steps"]);
        assert_eq!(stats.stop_reason.as_deref(), out["stop_reason"].as_str());
        // The trace replays the very tokens the command printed.
        let tokens: Vec<u32> = serde_json::from_value(out["tokens"].clone()).unwrap();
        assert_eq!(replay(&store.trace(answer.id).unwrap())[..tokens.len()], tokens[..]);
        prompt_tokens.push(stats.prompt_tokens.unwrap());
    }
    // The second prompt carried the first exchange.
    let first_generated = first["stats"]["generated"].as_u64().unwrap() as usize;
    assert!(prompt_tokens[1] > prompt_tokens[0] + first_generated, "{prompt_tokens:?}");
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);

    let md = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["history", "export", "1", "--format", "md", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert_eq!(md.matches("## Assistant\n").count(), 2, "{md}");
    assert!(md.contains(&format!("*{first_generated} tokens · ")), "{md}");
}

/// A small xorshift generator: the kill moments, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The newest assistant message and its stored steps, as a reader sees them.
fn newest_answer(store: &Store) -> Option<(i64, usize)> {
    let c = store.list_conversations().ok()?.into_iter().next()?;
    let m = store.messages(c.id).ok()?.into_iter().rev().find(|m| m.role == Role::Assistant)?;
    Some((m.id, store.trace(m.id).ok()?.len()))
}

#[test]
fn real_sigkill_of_generate_at_random_moments_loses_no_committed_step() {
    const KILLS: usize = 20;
    let tokenizer = Tokenizer::from_path(&model_path(SMOL)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    eprintln!("crash test seed {seed}");
    // Every answer seen so far: id -> (status, steps, text) at the last check.
    let mut known: BTreeMap<i64, (MessageStatus, usize, String)> = BTreeMap::new();
    let (mut lost, mut interrupted, mut completed, mut most, mut seen_total) = (0, 0, 0, 0, 0);
    let started = Instant::now();

    for kill in 0..KILLS {
        let mut child =
            generate(&db, &["--max-tokens", "400", "--prompt", "Tell a long story about a lighthouse keeper."])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
        // A reader polls what is committed while the child writes: whatever it saw must
        // still be there after the kill.
        let seen: Mutex<BTreeMap<i64, usize>> = Mutex::default();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let reader = Store::open(&db).unwrap();
                while !stop.load(Ordering::SeqCst) {
                    if let Some((id, n)) = newest_answer(&reader) {
                        let mut seen = seen.lock().unwrap();
                        let e = seen.entry(id).or_insert(0);
                        *e = (*e).max(n);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            std::thread::sleep(Duration::from_millis(150 + rng.below(2500)));
            child.kill().unwrap();
            child.wait().unwrap();
            stop.store(true, Ordering::SeqCst);
        });

        let store = Store::open(&db).unwrap();
        assert_eq!(store.integrity_check().unwrap(), ["ok"], "kill {kill}");
        interrupted += store.report().interrupted;
        for c in store.list_conversations().unwrap() {
            for m in store.messages(c.id).unwrap().into_iter().filter(|m| m.role == Role::Assistant) {
                let trace = store.trace(m.id).unwrap();
                let tokens = replay(&trace);
                let kept = match m.status {
                    MessageStatus::Complete => m.stats.as_ref().unwrap().generated,
                    MessageStatus::Interrupted => tokens.len(),
                    other => panic!("kill {kill}: message {} is {other:?} after reopening", m.id),
                };
                assert_eq!(
                    m.text,
                    tokenizer.decode(&tokens[..kept]),
                    "kill {kill}: text and trace of {} disagree",
                    m.id
                );
                let floor = seen.lock().unwrap().get(&m.id).copied().unwrap_or(0);
                if let Some((status, n, text)) = known.get(&m.id) {
                    assert_eq!(
                        (*status, *n, text),
                        (m.status, trace.len(), &m.text),
                        "kill {kill}: message {} changed",
                        m.id
                    );
                }
                if trace.len() < floor {
                    lost += floor - trace.len();
                }
                assert!(
                    trace.len() >= floor,
                    "kill {kill}: {} steps of {} stored, {floor} were seen",
                    trace.len(),
                    m.id
                );
                if !known.contains_key(&m.id) {
                    completed += (m.status == MessageStatus::Complete) as usize;
                    seen_total += floor;
                }
                most = most.max(trace.len());
                known.insert(m.id, (m.status, trace.len(), m.text));
            }
        }
    }
    let figures = format!(
        "real crash test: {KILLS} SIGKILLs of `tandem generate --db`, integrity_check ok {KILLS}/{KILLS}, \
         {} answers ({interrupted} interrupted, {completed} complete), {seen_total} steps seen committed \
         by a concurrent reader before the kills, committed steps lost {lost}, longest trace {most} steps, {:.1} s",
        known.len(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("{figures}");
    assert!(interrupted as usize >= KILLS / 2, "too few kills hit a streaming answer: {figures}");
    assert!(seen_total > 0, "the reader never saw a committed step: {figures}");
}
