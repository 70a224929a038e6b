//! `tandem history` on databases made without a model: import, list, show, search, export,
//! and the errors a person sees.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

fn tandem(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem")).args(args).arg("--db").arg(db).output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A conversation export as another machine might have written it.
fn export_file(dir: &Path) -> std::path::PathBuf {
    let export = json!({
        "format": "tandem-conversation", "version": 1, "title": "Packing list",
        "created_at": "2025-06-01T09:00:00.000Z", "updated_at": "2025-06-01T09:01:30.500Z",
        "pair": {"target": "qwen2.5-coder-1.5b-instruct", "draft": "qwen2.5-coder-0.5b-instruct", "drafter": "hybrid"},
        "settings": {"max_tokens": 64, "temperature": 0.0},
        "messages": [
            {"role": "user", "status": "complete", "created_at": "2025-06-01T09:00:00.000Z",
             "updated_at": "2025-06-01T09:00:00.000Z", "text": "What should I pack for a hike?"},
            {"role": "assistant", "status": "complete", "created_at": "2025-06-01T09:00:01.000Z",
             "updated_at": "2025-06-01T09:01:30.500Z", "text": "Water, a map and a rain jacket.",
             "stats": {"generated": 3, "drafted": 2, "accepted": 1, "acceptance_rate": 0.5, "steps": 2,
                       "mean_accepted": 1.0, "prefill_ms": 20.0, "decode_ms": 50.0, "tokens_per_second": 60.0,
                       "drafter": "hybrid", "prompt_tokens": 12, "stop_reason": "eos"},
             "trace": [
                {"drafted": [7, 8], "accepted": 1, "token": 9, "drafter": "ngram", "draft_ms": 0.25, "verify_ms": 20.5, "committed": 2},
                {"drafted": [], "accepted": 0, "token": 10, "drafter": null, "draft_ms": 0.0, "verify_ms": 18.0, "committed": 1}
             ]}
        ]
    });
    let path = dir.join("packing.json");
    std::fs::write(&path, serde_json::to_string_pretty(&export).unwrap()).unwrap();
    path
}

#[test]
fn import_list_show_search_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let file = export_file(dir.path());
    assert_eq!(ok(tandem(&["history", "import", file.to_str().unwrap()], &db)), "imported conversation 1\n");

    let list = ok(tandem(&["history", "list"], &db));
    assert!(
        list.contains("2025-06-01 09:01 UTC") && list.contains("2 messages") && list.contains("Packing list"),
        "{list}"
    );
    let listed: serde_json::Value = serde_json::from_str(&ok(tandem(&["history", "list", "--json"], &db))).unwrap();
    assert_eq!(listed[0]["id"], 1);
    assert_eq!(listed[0]["pair"]["drafter"], "hybrid");

    let show = ok(tandem(&["history", "show", "1"], &db));
    assert!(show.starts_with("# Packing list (conversation 1, 2 messages)\n"), "{show}");
    assert!(show.contains("[assistant 2 · 2025-06-01 09:00 UTC]\nWater, a map and a rain jacket."), "{show}");
    assert!(
        show.contains("3 tokens · 60.0 tok/s · drafter hybrid · 1/2 drafted tokens accepted (50%) · 2 steps"),
        "{show}"
    );

    let hits = ok(tandem(&["history", "search", "rain", "jack"], &db));
    assert_eq!(hits, "conversation 1 · message 2 · Packing list\n    Water, a map and a [rain] [jacket].\n");

    let md = ok(tandem(&["history", "export", "1", "--format", "md"], &db));
    assert!(md.starts_with("# Packing list\n") && md.contains("## User\n\nWhat should I pack for a hike?\n"), "{md}");
    assert!(md.contains("*3 tokens · 60.0 tok/s"), "{md}");

    // JSON export of the import is the original export, field for field.
    let json_out: serde_json::Value =
        serde_json::from_str(&ok(tandem(&["history", "export", "1", "--format", "json"], &db))).unwrap();
    let original: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json_out, original);

    // And through a file, into a second database.
    let again = dir.path().join("again.json");
    ok(tandem(&["history", "export", "1", "--format", "json", "--output", again.to_str().unwrap()], &db));
    let db2 = dir.path().join("h2.db");
    ok(tandem(&["history", "import", again.to_str().unwrap()], &db2));
    let json2: serde_json::Value =
        serde_json::from_str(&ok(tandem(&["history", "export", "1", "--format", "json"], &db2))).unwrap();
    assert_eq!(json2, original);
}

#[test]
fn mistakes_get_plain_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let out = tandem(&["history", "show", "7"], &db);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no conversation with id 7"), "{out:?}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"format": "tandem-conversation", "version": 9}"#).unwrap();
    let out = tandem(&["history", "import", bad.to_str().unwrap()], &db);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("export version 9"), "{out:?}");

    // --conversation means nothing without --db.
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["generate", "--prompt", "hi", "--conversation", "3"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db"), "{out:?}");

    // A conversation that does not exist fails before any model loads.
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["generate", "--target", "no-such-model", "--prompt", "hi", "--conversation", "3", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no conversation with id 3"), "{out:?}");
}

#[test]
fn a_damaged_database_is_moved_aside_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    std::fs::write(&db, vec![0x42u8; 10_000]).unwrap();
    let out = tandem(&["history", "list"], &db);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tandem: note: the history database was damaged"), "{err}");
    assert!(err.contains("h.db.corrupt-"), "{err}");
    assert!(err.contains("no conversations"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("h.db.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(dir.path().join(&kept[0])).unwrap(), vec![0x42u8; 10_000]);
}
