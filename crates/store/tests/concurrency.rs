//! One writer streams an answer while readers list, search and read, through a shared
//! handle and through a second handle on the same file.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{decode, done, step, tokens};
use tandem_engine::{Event, StopReason};
use tandem_store::{BatchPolicy, MessageStatus, Store, StoreOptions};

const STEPS: u64 = 1500;

#[test]
fn readers_see_a_streaming_answer_grow_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let options = StoreOptions {
        batch: BatchPolicy { max_steps: 8, max_delay: Duration::from_millis(20) },
        ..Default::default()
    };
    let store = Store::open_with(&path, options).unwrap();
    let conv = store.create_conversation("busy").unwrap();
    store.add_message(conv, tandem_store::Role::User, "count with me").unwrap();
    let mut writer = store.begin_answer(conv, decode).unwrap();
    let message = writer.message_id();
    let finished = AtomicBool::new(false);

    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..STEPS {
                writer.on_event(&Event::Step(step(i))).unwrap();
                if i % 16 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            writer.on_event(&done(STEPS, tokens(STEPS).len(), StopReason::Eos)).unwrap();
            finished.store(true, Ordering::SeqCst);
        });

        // Shared handle: list and search while the answer grows.
        let shared = store.clone();
        let finished_ref = &finished;
        let lister = s.spawn(move || {
            let mut rounds = 0;
            while !finished_ref.load(Ordering::SeqCst) {
                let list = shared.list_conversations().unwrap();
                assert_eq!(list.len(), 1);
                assert_eq!(list[0].messages, 2);
                shared.search("w50000", 5).unwrap();
                rounds += 1;
            }
            rounds
        });

        // Second handle, as another window or process would have: the live answer is not
        // mistaken for one left by a crash, and what it shows only ever grows.
        let other = Store::open(&path).unwrap();
        assert_eq!(other.report().interrupted, 0);
        let mut last = 0;
        let mut rounds = 0;
        let mut saw_streaming = false;
        while !finished.load(Ordering::SeqCst) {
            let m = other.message(message).unwrap();
            let trace = other.trace(message).unwrap();
            let n = trace.len() as u64;
            assert!(n >= last, "trace shrank from {last} to {n}");
            if m.status == MessageStatus::Streaming {
                saw_streaming = true;
                // Read before the trace, the text is that of the same or an earlier batch.
                assert!(decode(&tokens(n)).starts_with(&m.text));
            }
            // In one snapshot, text and trace match exactly: they are committed together.
            let snap = other.export_conversation(conv).unwrap();
            let answer = &snap.messages[1];
            if answer.status == MessageStatus::Streaming {
                let replayed: Vec<u32> = answer.trace.iter().flat_map(|s| s.committed_tokens()).collect();
                assert_eq!(answer.text, decode(&replayed));
            }
            last = n;
            rounds += 1;
        }
        assert!(saw_streaming, "the reader never saw the answer streaming");
        let lister_rounds = lister.join().unwrap();
        assert!(rounds > 3 && lister_rounds > 3, "readers ran {rounds} and {lister_rounds} rounds");
    });

    let m = store.message(message).unwrap();
    assert_eq!((m.status, m.text.clone()), (MessageStatus::Complete, decode(&tokens(STEPS))));
    assert_eq!(store.trace(message).unwrap().len() as u64, STEPS);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn processes_opening_a_new_file_at_once_all_succeed() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    start.wait();
                    let store = Store::open(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
                    store.create_conversation("mine").unwrap();
                });
            }
        });
        let store = Store::open(&path).unwrap();
        assert_eq!(store.list_conversations().unwrap().len(), 4);
        assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    }
}
