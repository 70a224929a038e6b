//! Schema upgrades: a file written under the first schema opens under the latest with its
//! data intact; a file from a newer version is refused and left alone.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
use tandem_engine::DrafterKind;
use tandem_store::{encode_trace, MessageStatus, Role, SearchHit, Store, StoreError, TraceStep, MIGRATOR};

fn block<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(work)
}

async fn connect(db: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new().filename(db).create_if_missing(true).journal_mode(SqliteJournalMode::Wal);
    SqlitePool::connect_with(options).await.unwrap()
}

fn old_trace() -> Vec<TraceStep> {
    vec![
        TraceStep {
            drafted: vec![],
            accepted: 0,
            token: 32,
            drafter: None,
            draft_ms: 0.0,
            verify_ms: 40.0,
            committed: 1,
        },
        TraceStep {
            drafted: vec![5, 6, 7],
            accepted: 2,
            token: 9,
            drafter: Some(DrafterKind::Ngram),
            draft_ms: 0.1,
            verify_ms: 55.5,
            committed: 3,
        },
    ]
}

/// Writes a database the way the first version of the schema did.
async fn write_first_schema_file(db: &Path, migrations: &Path) {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_history.sql"),
        migrations.join("0001_history.sql"),
    )
    .unwrap();
    let pool = connect(db).await;
    Migrator::new(migrations).await.unwrap().run(&pool).await.unwrap();
    let stats = r#"{"generated":4,"drafted":3,"accepted":2,"acceptance_rate":0.6667,"steps":2,"mean_accepted":2.0,
        "prefill_ms":80.0,"decode_ms":95.5,"tokens_per_second":41.9,"drafter":"ngram","stop_reason":"eos"}"#;
    for sql in [
        "INSERT INTO conversations (id, title, created_at, updated_at, target, drafter, settings)
         VALUES (1, 'Animals', 1000, 2000, 'smollm2', 'ngram', '{\"temperature\":0.0}')",
        "INSERT INTO messages VALUES (1, 1, 'user', 'What is a quokka?', 'complete', NULL, 1000, 1000)",
        "INSERT INTO app_settings VALUES ('theme', '\"dark\"', 1000)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    sqlx::query("INSERT INTO messages VALUES (2, 1, 'assistant', 'A small marsupial.', 'complete', ?, 1500, 2000)")
        .bind(stats)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO trace_batches VALUES (2, 0, 2, ?)")
        .bind(encode_trace(&old_trace()))
        .execute(&pool)
        .await
        .unwrap();
    // An answer its process never finished.
    sqlx::query("INSERT INTO messages VALUES (3, 1, 'assistant', 'Half an ans', 'streaming', NULL, 3000, 3000)")
        .execute(&pool)
        .await
        .unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'documents'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(tables.is_empty(), "the first schema has no documents");
    pool.close().await;
}

#[test]
fn a_first_schema_database_upgrades_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let first = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    block(write_first_schema_file(&db, first.path()));

    let store = Store::open(&db).unwrap();
    assert_eq!(store.report().interrupted, 1, "the unfinished answer is found");
    let c = store.conversation(1).unwrap();
    assert_eq!((c.title.as_str(), c.messages, c.settings["temperature"].as_f64()), ("Animals", 3, Some(0.0)));
    assert_eq!(c.pair.unwrap().drafter, "ngram");
    let m = store.messages(1).unwrap();
    assert_eq!((m[0].role, m[1].role), (Role::User, Role::Assistant));
    let stats = m[1].stats.clone().unwrap();
    assert_eq!((stats.generated, stats.prompt_tokens, stats.stop_reason.as_deref()), (4, None, Some("eos")));
    assert_eq!((m[2].status, m[2].text.as_str()), (MessageStatus::Interrupted, "Half an ans"));
    assert_eq!(store.trace(2).unwrap(), old_trace());
    assert_eq!(store.setting("theme").unwrap(), Some(serde_json::json!("dark")));

    // Messages from before search existed are indexed by the upgrade.
    let hits = store.search("quokka", 10).unwrap();
    assert!(matches!(&hits[..], [SearchHit::Message { message_id: 1, .. }]), "{hits:?}");
    assert_eq!(store.search("marsupial", 10).unwrap().len(), 1);
    // And what came with the upgrade works.
    let doc = store.create_document("Quokka facts", "They live on Rottnest Island.").unwrap();
    assert!(
        matches!(&store.search("Rottnest", 10).unwrap()[..], [SearchHit::Document { document_id, .. }] if *document_id == doc)
    );
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    drop(store);

    let applied: Vec<i64> = block(async {
        let pool = connect(&db).await;
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    let latest: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, latest);
    assert!(latest.len() >= 2);
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let store = Store::open(&db).unwrap();
    let id = store.create_conversation("kept").unwrap();
    drop(store);
    block(async {
        let pool = connect(&db).await;
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'future', 1, x'00', 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    match Store::open(&db) {
        Err(StoreError::TooNew { found: 99, known }) => {
            assert_eq!(known, MIGRATOR.iter().map(|m| m.version).max().unwrap())
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains("corrupt")), "the file was moved aside: {names:?}");
    let title: String = block(async {
        let pool = connect(&db).await;
        sqlx::query_scalar("SELECT title FROM conversations WHERE id = ?").bind(id).fetch_one(&pool).await.unwrap()
    });
    assert_eq!(title, "kept");
}
