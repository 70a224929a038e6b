//! Streaming an answer: batches, endings, and what readers see meanwhile.

mod common;

use std::time::Duration;

use common::{decode, done, step, tokens};
use tandem_engine::{Event, StopReason};
use tandem_store::{BatchPolicy, MessageStatus, Store, StoreOptions, TraceStep};

fn store_with(policy: BatchPolicy) -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Store::open_with(dir.path().join("h.db"), StoreOptions { batch: policy, ..Default::default() }).unwrap();
    let conv = store.create_conversation("t").unwrap();
    (dir, store, conv)
}

const BY_FOUR: BatchPolicy = BatchPolicy { max_steps: 4, max_delay: Duration::from_secs(3600) };

fn expected_trace(n: u64) -> Vec<TraceStep> {
    (0..n).map(|i| TraceStep::from_event(&step(i)).unwrap()).collect()
}

#[test]
fn steps_are_committed_in_batches_and_done_completes_the_answer() {
    let (_dir, store, conv) = store_with(BY_FOUR);
    let mut w = store.begin_answer(conv, decode).unwrap();
    let id = w.message_id();
    let m = store.message(id).unwrap();
    assert_eq!((m.status, m.text.as_str()), (MessageStatus::Streaming, ""));

    w.on_event(&Event::Prefill { prompt_tokens: 17, ms: 12.5 }).unwrap();
    for i in 0..10 {
        w.on_event(&Event::Step(step(i))).unwrap();
        let stored = (i + 1) / 4 * 4;
        assert_eq!(w.stored_steps(), stored, "after step {i}");
        // Readers see exactly the committed batches, text and trace alike.
        assert_eq!(store.trace(id).unwrap(), expected_trace(stored));
        assert_eq!(store.message(id).unwrap().text, decode(&tokens(stored)));
    }
    let all = tokens(10);
    w.on_event(&done(10, all.len(), StopReason::MaxTokens)).unwrap();
    assert_eq!(w.stored_steps(), 10);

    let m = store.message(id).unwrap();
    assert_eq!(m.status, MessageStatus::Complete);
    assert_eq!(m.text, decode(&all));
    let stats = m.stats.unwrap();
    assert_eq!((stats.generated, stats.steps, stats.prompt_tokens), (all.len(), 10, Some(17)));
    assert_eq!((stats.drafter.as_str(), stats.stop_reason.as_deref()), ("hybrid", Some("max_tokens")));
    assert_eq!(store.trace(id).unwrap(), expected_trace(10));
    let replayed: Vec<u32> = store.trace(id).unwrap().iter().flat_map(TraceStep::committed_tokens).collect();
    assert_eq!(replayed, all, "the trace replays the output");
    assert_eq!(store.messages(conv).unwrap().len(), 1);
    assert!(w.on_event(&Event::Step(step(10))).unwrap_err().code() == "misuse");
}

#[test]
fn a_stop_string_cut_keeps_only_the_final_tokens() {
    let (_dir, store, conv) = store_with(BY_FOUR);
    let mut w = store.begin_answer(conv, decode).unwrap();
    for i in 0..6 {
        w.on_event(&Event::Step(step(i))).unwrap();
    }
    let kept = tokens(6).len() - 2;
    w.on_event(&done(6, kept, StopReason::StopString)).unwrap();
    let m = store.message(w.message_id()).unwrap();
    assert_eq!(m.text, decode(&tokens(6)[..kept]));
    assert_eq!(m.stats.unwrap().stop_reason.as_deref(), Some("stop_string"));
    assert_eq!(store.trace(w.message_id()).unwrap().len(), 6, "the trace keeps every step");
}

#[test]
fn cancelled_and_abandoned_answers_say_so() {
    let (_dir, store, conv) = store_with(BY_FOUR);
    let mut w = store.begin_answer(conv, decode).unwrap();
    w.on_event(&Event::Step(step(0))).unwrap();
    w.on_event(&done(1, tokens(1).len(), StopReason::Cancelled)).unwrap();
    assert_eq!(store.message(w.message_id()).unwrap().status, MessageStatus::Cancelled);

    // Generation failed: interrupt() commits what is pending.
    let mut w = store.begin_answer(conv, decode).unwrap();
    for i in 0..3 {
        w.on_event(&Event::Step(step(i))).unwrap();
    }
    let id = w.message_id();
    w.interrupt().unwrap();
    let m = store.message(id).unwrap();
    assert_eq!((m.status, m.text, m.stats), (MessageStatus::Interrupted, decode(&tokens(3)), None));
    assert_eq!(store.trace(id).unwrap(), expected_trace(3));

    // Dropped without an ending (an error path in the caller): the same.
    let id = {
        let mut w = store.begin_answer(conv, decode).unwrap();
        for i in 0..5 {
            w.on_event(&Event::Step(step(i))).unwrap();
        }
        w.message_id()
    };
    let m = store.message(id).unwrap();
    assert_eq!((m.status, m.text), (MessageStatus::Interrupted, decode(&tokens(5))));
    assert_eq!(store.trace(id).unwrap(), expected_trace(5));
}

#[test]
fn the_delay_bound_commits_slow_steps_at_once() {
    let (_dir, store, conv) = store_with(BatchPolicy { max_steps: 1000, max_delay: Duration::ZERO });
    let mut w = store.begin_answer(conv, decode).unwrap();
    for i in 0..3 {
        w.on_event(&Event::Step(step(i))).unwrap();
        assert_eq!(w.stored_steps(), i + 1);
    }
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn a_step_that_breaks_the_engine_invariants_is_refused() {
    let (_dir, store, conv) = store_with(BY_FOUR);
    let mut w = store.begin_answer(conv, decode).unwrap();
    let mut bad = step(3);
    bad.committed.push(7);
    assert_eq!(w.on_event(&Event::Step(bad)).unwrap_err().code(), "trace");
    w.on_event(&Event::Step(step(0))).unwrap();
    w.flush().unwrap();
    assert_eq!(store.trace(w.message_id()).unwrap(), expected_trace(1));
}
