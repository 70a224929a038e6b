//! Conversations, messages, documents, settings and search through the public API.

use serde_json::json;
use tandem_store::{MessageStatus, Pair, Role, SearchHit, Store, StoreError};

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("history.db")).unwrap();
    assert_eq!(store.report().notices(), Vec::<String>::new());
    (dir, store)
}

#[test]
fn a_conversation_keeps_its_messages_in_order() {
    let (_dir, store) = fresh();
    let id = store.create_conversation("Trip to Lyon").unwrap();
    let c = store.conversation(id).unwrap();
    assert_eq!((c.title.as_str(), c.messages, c.pair.clone()), ("Trip to Lyon", 0, None));
    store.add_message(id, Role::System, "Be brief.").unwrap();
    store.add_message(id, Role::User, "Which train?").unwrap();
    store.add_message(id, Role::Assistant, "The 8:04 TGV.").unwrap();
    let pair = Pair { target: "qwen".into(), draft: Some("qwen-small".into()), drafter: "hybrid".into() };
    store.set_conversation_pair(id, &pair, &json!({"temperature": 0.0})).unwrap();

    let messages = store.messages(id).unwrap();
    let seen: Vec<(Role, &str, MessageStatus)> = messages.iter().map(|m| (m.role, m.text.as_str(), m.status)).collect();
    assert_eq!(
        seen,
        [
            (Role::System, "Be brief.", MessageStatus::Complete),
            (Role::User, "Which train?", MessageStatus::Complete),
            (Role::Assistant, "The 8:04 TGV.", MessageStatus::Complete),
        ]
    );
    assert!(messages.iter().all(|m| m.conversation_id == id && m.stats.is_none()));
    assert_eq!(store.message(messages[1].id).unwrap(), messages[1]);
    let c = store.conversation(id).unwrap();
    assert_eq!((c.messages, c.pair, c.settings), (3, Some(pair), json!({"temperature": 0.0})));
    assert!(c.updated_at >= c.created_at);
}

#[test]
fn the_list_shows_the_latest_change_first_and_deletion_removes_everything() {
    let (_dir, store) = fresh();
    let a = store.create_conversation("a").unwrap();
    let b = store.create_conversation("b").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    store.add_message(a, Role::User, "zebra crossing").unwrap();
    let order: Vec<i64> = store.list_conversations().unwrap().iter().map(|c| c.id).collect();
    assert_eq!(order, [a, b]);
    store.rename_conversation(b, "b2").unwrap();
    assert_eq!(store.list_conversations().unwrap()[0].title, "b2");

    assert_eq!(store.search("zebra", 10).unwrap().len(), 1);
    store.delete_conversation(a).unwrap();
    assert!(matches!(store.conversation(a), Err(StoreError::NotFound { what: "conversation", .. })));
    assert!(matches!(store.messages(a), Err(StoreError::NotFound { .. })));
    assert_eq!(store.search("zebra", 10).unwrap(), vec![], "deleted messages leave the index");
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn missing_ids_are_not_found_errors() {
    let (_dir, store) = fresh();
    assert_eq!(store.add_message(42, Role::User, "x").unwrap_err().code(), "not_found");
    assert_eq!(store.begin_answer(42, |_| String::new()).err().unwrap().code(), "not_found");
    assert_eq!(store.delete_conversation(42).unwrap_err().code(), "not_found");
    assert_eq!(store.rename_conversation(42, "t").unwrap_err().code(), "not_found");
    assert_eq!(store.message(42).unwrap_err().code(), "not_found");
    assert_eq!(store.update_document(42, "t", "b").unwrap_err().code(), "not_found");
    assert_eq!(store.document_revisions(42).unwrap_err().code(), "not_found");
    assert!(store.list_conversations().unwrap().is_empty());
}

#[test]
fn documents_keep_every_revision() {
    let (_dir, store) = fresh();
    let id = store.create_document("Notes", "first draft").unwrap();
    assert_eq!(store.update_document(id, "Notes", "second draft").unwrap(), 2);
    assert_eq!(store.update_document(id, "Meeting notes", "final text").unwrap(), 3);
    let d = store.document(id).unwrap();
    assert_eq!((d.title.as_str(), d.body.as_str(), d.revision), ("Meeting notes", "final text", 3));
    let revs = store.document_revisions(id).unwrap();
    let bodies: Vec<(i64, &str)> = revs.iter().map(|r| (r.revision, r.body.as_str())).collect();
    assert_eq!(bodies, [(1, "first draft"), (2, "second draft"), (3, "final text")]);
    assert_eq!(store.list_documents().unwrap(), vec![d]);

    // Search sees the current revision only.
    assert!(store.search("second", 10).unwrap().is_empty());
    let hits = store.search("final", 10).unwrap();
    assert!(matches!(&hits[..], [SearchHit::Document { document_id, title, snippet }]
        if *document_id == id && title == "Meeting notes" && snippet.contains("[final]")));

    store.delete_document(id).unwrap();
    assert!(store.search("final", 10).unwrap().is_empty());
    assert_eq!(store.document(id).unwrap_err().code(), "not_found");
}

#[test]
fn settings_hold_json_values() {
    let (_dir, store) = fresh();
    assert_eq!(store.setting("theme").unwrap(), None);
    store.set_setting("theme", &json!("dark")).unwrap();
    store.set_setting("pair", &json!({"target": "qwen", "draft_max": 6})).unwrap();
    store.set_setting("theme", &json!("light")).unwrap();
    assert_eq!(store.setting("theme").unwrap(), Some(json!("light")));
    let all = store.settings().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["pair"]["draft_max"], 6);
}

#[test]
fn search_finds_words_prefixes_and_literal_operators() {
    let (_dir, store) = fresh();
    let c = store.create_conversation("Rust questions").unwrap();
    let m1 = store.add_message(c, Role::User, "How does the borrow checker work?").unwrap();
    let m2 = store.add_message(c, Role::Assistant, "It tracks lifetimes: a café AND a NEAR(b) call.").unwrap();
    let ids = |q: &str| -> Vec<i64> {
        store
            .search(q, 10)
            .unwrap()
            .into_iter()
            .map(|h| match h {
                SearchHit::Message { message_id, conversation_id, title, .. } => {
                    assert_eq!((conversation_id, title.as_str()), (c, "Rust questions"));
                    message_id
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    assert_eq!(ids("borrow"), [m1]);
    assert_eq!(ids("borr"), [m1], "the last word matches as a prefix");
    assert_eq!(ids("borr checker"), Vec::<i64>::new(), "earlier words match whole");
    assert_eq!(ids("cafe"), [m2], "diacritics are folded");
    assert_eq!(ids("AND NEAR(b)"), [m2], "operators are searched as words");
    assert_eq!(ids("\"unbalanced"), Vec::<i64>::new());
    assert_eq!(ids("   "), Vec::<i64>::new());
    assert_eq!(store.search("t", 10).unwrap().len(), 2, "\"the\" and \"tracks\"");
    assert_eq!(store.search("t", 1).unwrap().len(), 1);
}

#[test]
fn deleting_from_a_message_drops_it_and_everything_after_with_traces() {
    let dir = tempfile::tempdir().unwrap();
    let store = tandem_store::Store::open(dir.path().join("h.sqlite")).unwrap();
    let c = store.create_conversation("t").unwrap();
    let first = store.add_message(c, tandem_store::Role::User, "one").unwrap();
    let second = store.add_message(c, tandem_store::Role::Assistant, "two").unwrap();
    store.add_message(c, tandem_store::Role::User, "three").unwrap();
    let other = store.create_conversation("other").unwrap();
    store.add_message(other, tandem_store::Role::User, "elsewhere").unwrap();

    assert_eq!(store.delete_messages_from(c, second).unwrap(), 2);
    let left: Vec<i64> = store.messages(c).unwrap().iter().map(|m| m.id).collect();
    assert_eq!(left, [first]);
    assert_eq!(store.messages(other).unwrap().len(), 1);
    assert!(store.search("three", 10).unwrap().is_empty(), "the search index forgets deleted messages");
    // A message of another conversation is not this one's to delete.
    assert!(store.delete_messages_from(c, store.messages(other).unwrap()[0].id).is_err());
}
