//! The desktop app's core on a real model (SmolLM2 135M, prompt-lookup drafting): chat turns
//! are saved with their traces, a second request while answering is refused, Stop keeps
//! the partial answer, regenerate and edit replace what followed, document instructions
//! make revisions, and a race's two runs write the same text.

use std::sync::Arc;
use std::time::Duration;

use tandem_models::library::Locations;
use tandem_session::{App, GenEvent, Instruction, SessionError, Settings};
use tandem_store::{MessageStatus, Role};

const SMOL: &str = "smollm2-135m-instruct";

fn app(dir: &std::path::Path) -> App {
    let mut loc = Locations::from_env().unwrap();
    loc.lm_studio.clear();
    let app = App::open(&dir.join("history.sqlite"), loc).unwrap();
    let settings = Settings { max_tokens: 48, ..Settings::default() };
    app.set_settings(settings).unwrap();
    app.load_pair(SMOL, None, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}\n(the README's test command fetches the models)"));
    app
}

fn text_of(events: &[GenEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            GenEvent::Step(s) => Some(format!("{}{}", s.accepted.concat(), s.correction)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_chat_turn_is_streamed_saved_and_replayable() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let c = app.create_conversation("").unwrap();
    let mut events = Vec::new();
    let answer = app.chat_send(c.id, "Name three colours.", &mut |e| events.push(e)).unwrap();
    assert_eq!(answer.role, Role::Assistant);
    assert_eq!(answer.status, MessageStatus::Complete);
    assert_eq!(text_of(&events), answer.text, "the streamed pieces add up to the saved answer");
    match events.last() {
        Some(GenEvent::Done { message_id, stats, .. }) => {
            assert_eq!(*message_id, Some(answer.id));
            assert!(stats.generated > 0);
        }
        other => panic!("ends with Done, got {other:?}"),
    }
    let trace = app.message_trace(answer.id).unwrap();
    let replayed: String = trace.iter().map(|s| format!("{}{}", s.accepted.concat(), s.correction)).collect();
    assert_eq!(replayed, answer.text, "the stored trace replays the answer");
    assert_eq!(app.messages(c.id).unwrap().len(), 2);
}

#[test]
fn one_answer_at_a_time_and_stop_keeps_the_partial_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(app(dir.path()));
    let mut settings = app.settings();
    settings.max_tokens = 400;
    app.set_settings(settings).unwrap();
    let c = app.create_conversation("long").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = {
        let app = app.clone();
        std::thread::spawn(move || {
            app.chat_send(c.id, "Write a long story about a lighthouse keeper.", &mut |e| {
                let _ = tx.send(matches!(e, GenEvent::Step(_)));
            })
        })
    };
    // Wait for the answer to be under way.
    while !rx.recv_timeout(Duration::from_secs(60)).unwrap() {}
    let second = app.chat_send(c.id, "Another question", &mut |_| {}).unwrap_err();
    assert!(matches!(second, SessionError::Busy), "{second}");
    assert_eq!(second.code(), "busy");
    app.stop();
    let answer = worker.join().unwrap().unwrap();
    assert_eq!(answer.status, MessageStatus::Cancelled);
    assert!(!answer.text.is_empty(), "the partial answer is kept");
    assert!(answer.stats.unwrap().generated < 400);
}

#[test]
fn regenerate_and_edit_replace_what_followed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let c = app.create_conversation("t").unwrap();
    app.chat_send(c.id, "Say hello.", &mut |_| {}).unwrap();
    let again = app.chat_regenerate(c.id, &mut |_| {}).unwrap();
    let messages = app.messages(c.id).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].id, again.id);

    let edited = app.chat_edit_resend(messages[0].id, "Say goodbye.", &mut |_| {}).unwrap();
    let messages = app.messages(c.id).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].text, "Say goodbye.");
    assert_eq!(messages[1].id, edited.id);
    let err = app.chat_edit_resend(edited.id, "x", &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
}

#[test]
fn document_instructions_make_a_new_revision() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let doc = app.save_document(None, "Note", "The cat sat on the mat. It was happy.").unwrap();
    let mut streamed = Vec::new();
    let after = app.document_instruct(doc.id, Instruction::Continue, None, &mut |e| streamed.push(e)).unwrap();
    assert!(after.body.starts_with("The cat sat on the mat. It was happy. "), "{:?}", after.body);
    assert!(after.body.len() > doc.body.len() + 1);
    assert_eq!(after.revision, doc.revision + 1);
    assert!(after.body.ends_with(text_of(&streamed).trim()));
    assert_eq!(app.document_revisions(doc.id).unwrap().len(), 2);

    let err = app.document_instruct(doc.id, Instruction::Grammar, Some((5, 500)), &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
}

#[test]
fn a_race_writes_the_same_text_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let (mut plain, mut spec) = (Vec::new(), Vec::new());
    let result =
        app.race("Repeat after me: one two three four five.", &mut |e| plain.push(e), &mut |e| spec.push(e)).unwrap();
    assert!(result.identical);
    assert_eq!(text_of(&plain), text_of(&spec));
    assert_eq!(result.plain.drafted, 0);
}

#[test]
fn without_a_pair_answers_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&dir.path().join("h.sqlite"), Locations::from_env().unwrap()).unwrap();
    assert!(app.info().first_run);
    // The backends this build really has, as `tandem devices` reports them.
    let backends = app.info().backends;
    assert_eq!(backends[0], "cpu");
    assert_eq!(backends.iter().any(|b| b == "cuda"), cfg!(feature = "cuda"));
    assert_eq!(backends.iter().any(|b| b == "metal"), cfg!(feature = "metal"));
    let c = app.create_conversation("t").unwrap();
    let err = app.chat_send(c.id, "hi", &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "no_pair_loaded");
    let bad = Settings { temperature: 5.0, ..Settings::default() };
    assert_eq!(app.set_settings(bad).unwrap_err().code(), "invalid_input");
    let err = app.load_pair("qwen2.5-7b-instruct", None, &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "model_missing");
}
