//! Export to JSON and Markdown; importing a JSON export gives the same conversation or document.

mod common;

use common::{decode, done, step, tokens};
use serde_json::json;
use tandem_engine::{Event, StopReason};
use tandem_store::{Imported, MessageStatus, Pair, Role, Store};

/// A conversation with every kind of message: system, user, a complete answer with stats
/// and trace, a cancelled one and an interrupted one.
fn rich_conversation(store: &Store) -> i64 {
    let c = store.create_conversation("Weekly plan — ünïcode ✓").unwrap();
    let pair = Pair { target: "qwen2.5-coder-1.5b-instruct".into(), draft: None, drafter: "ngram".into() };
    store.set_conversation_pair(c, &pair, &json!({"max_tokens": 64, "temperature": 0.7, "stop": ["\n\n"]})).unwrap();
    store.add_message(c, Role::System, "You are terse.").unwrap();
    store.add_message(c, Role::User, "Plan my week.\nTwo lines please.").unwrap();
    let mut w = store.begin_answer(c, decode).unwrap();
    w.on_event(&Event::Prefill { prompt_tokens: 21, ms: 33.3 }).unwrap();
    for i in 0..40 {
        w.on_event(&Event::Step(step(i))).unwrap();
    }
    w.on_event(&done(40, tokens(40).len() - 1, StopReason::StopString)).unwrap();
    store.add_message(c, Role::User, "Shorter.").unwrap();
    let mut w = store.begin_answer(c, decode).unwrap();
    w.on_event(&Event::Step(step(0))).unwrap();
    w.on_event(&done(1, 1, StopReason::Cancelled)).unwrap();
    let mut w = store.begin_answer(c, decode).unwrap();
    w.on_event(&Event::Step(step(1))).unwrap();
    w.interrupt().unwrap();
    c
}

#[test]
fn conversation_export_then_import_gives_the_same_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("a.db")).unwrap();
    let id = rich_conversation(&store);
    let exported = store.export_conversation(id).unwrap();
    assert_eq!(exported.messages.len(), 6);
    assert_eq!(exported.messages[2].trace.len(), 40);
    assert!(exported.messages[2].stats.is_some() && exported.messages[0].stats.is_none());
    let text = serde_json::to_string_pretty(&exported).unwrap();

    // Into another database, and into the same one (a second copy with a new id).
    let other = Store::open(dir.path().join("b.db")).unwrap();
    for target in [&other, &store] {
        let Imported::Conversation(new_id) = target.import_json(&text).unwrap() else { panic!("not a conversation") };
        assert_eq!(target.export_conversation(new_id).unwrap(), exported);
        let (a, b) = (store.messages(id).unwrap(), target.messages(new_id).unwrap());
        let strip = |ms: &[tandem_store::Message]| -> Vec<_> {
            ms.iter().map(|m| (m.role, m.text.clone(), m.status, m.stats.clone(), m.created_at, m.updated_at)).collect()
        };
        assert_eq!(strip(&a), strip(&b));
        let answer = |ms: &[tandem_store::Message]| ms[2].id;
        assert_eq!(store.trace(answer(&a)).unwrap(), target.trace(answer(&b)).unwrap());
    }
    assert_eq!(store.list_conversations().unwrap().len(), 2);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn markdown_shows_roles_statuses_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("a.db")).unwrap();
    let id = rich_conversation(&store);
    let md = store.export_conversation(id).unwrap().to_markdown();
    assert!(md.starts_with("# Weekly plan — ünïcode ✓\n"), "{md}");
    assert!(md.contains("Models: target `qwen2.5-coder-1.5b-instruct`, drafter ngram"), "{md}");
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        ["## System", "## User", "## Assistant", "## User", "## Assistant (cancelled)", "## Assistant (interrupted)"]
    );
    assert!(md.contains("Plan my week.\nTwo lines please."));
    let generated = tokens(40).len() - 1;
    assert!(md.contains(&format!("*{generated} tokens · 33.3 tok/s · drafter hybrid · ")), "{md}");
    assert!(md.contains("prompt 21 tokens, prefill 12 ms · stop: stop_string*"), "{md}");
}

#[test]
fn document_export_then_import_keeps_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("a.db")).unwrap();
    let id = store.create_document("Draft", "one").unwrap();
    store.update_document(id, "Draft", "one two").unwrap();
    store.update_document(id, "Final", "one two three").unwrap();
    let exported = store.export_document(id).unwrap();
    let text = serde_json::to_string(&exported).unwrap();
    let Imported::Document(new_id) = store.import_json(&text).unwrap() else { panic!("not a document") };
    assert_ne!(new_id, id);
    assert_eq!(store.export_document(new_id).unwrap(), exported);
    assert_eq!(store.document_revisions(new_id).unwrap(), store.document_revisions(id).unwrap());
    let md = exported.to_markdown();
    assert!(md.starts_with("# Final\n\none two three\n") && md.contains("*Revision 3 · last changed "), "{md}");
}

#[test]
fn bad_imports_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("a.db")).unwrap();
    let id = rich_conversation(&store);
    let good = serde_json::to_value(store.export_conversation(id).unwrap()).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        v.to_string()
    };
    let cases = [
        ("not json".to_string(), "not JSON"),
        (with(&|v| v["format"] = json!("something-else")), "\"format\""),
        (with(&|v| v["version"] = json!(2)), "export version 2"),
        (with(&|v| v["created_at"] = json!("yesterday")), "RFC 3339"),
        (with(&|v| v["messages"][1]["role"] = json!("robot")), "conversation:"),
        // The last message is valid up to a trace step that accepts more than it drafted:
        // the messages before it must not be imported either.
        (with(&|v| v["messages"][2]["trace"][3]["accepted"] = json!(9)), "trace of a message"),
    ];
    for (text, expected) in cases {
        let err = store.import_json(&text).unwrap_err();
        assert_eq!(err.code(), "import", "{err}");
        assert!(err.to_string().contains(expected), "{err} lacks {expected:?}");
    }
    assert_eq!(store.list_conversations().unwrap().len(), 1, "a refused import left something behind");

    let doc = store.create_document("d", "b").unwrap();
    let mut d = serde_json::to_value(store.export_document(doc).unwrap()).unwrap();
    d["revisions"][0]["revision"] = json!(2);
    assert!(store.import_json(&d.to_string()).unwrap_err().to_string().contains("revision 2 where 1"));
    assert_eq!(store.list_documents().unwrap().len(), 1);

    // An answer exported mid-stream is imported as interrupted.
    let mut v = good.clone();
    v["messages"][5]["status"] = json!("streaming");
    let Imported::Conversation(c) = store.import_json(&v.to_string()).unwrap() else { panic!() };
    assert_eq!(store.messages(c).unwrap()[5].status, MessageStatus::Interrupted);
}
