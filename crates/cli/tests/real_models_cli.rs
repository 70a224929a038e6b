//! `tandem models ...` end to end: a download killed mid-way and continued by the next
//! run (against a local server speaking the Hugging Face hub protocol, serving the real
//! SmolLM2 file), import, pair checks, recommendations and removal, each with `--json`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tandem_testhub::TestHub;

const SMOL: &str = "smollm2-135m-instruct";
const TARGET: &str = "qwen2.5-coder-1.5b-instruct";

fn real_model(id: &str) -> PathBuf {
    tandem_models::cache::resolve(id)
        .unwrap_or_else(|e| panic!("{e}\n(the README's test command fetches every model the tests use)"))
}

/// `tandem` with its model folders inside `home`, pointed at `hub`.
fn tandem(home: &Path, hub: Option<&TestHub>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tandem"));
    c.env("TANDEM_MODELS_DIR", home.join("tandem"))
        .env("HF_HUB_CACHE", home.join("hub"))
        .env("HOME", home)
        .env_remove("HF_TOKEN")
        .env_remove("HF_HOME");
    if let Some(hub) = hub {
        c.env("HF_ENDPOINT", hub.endpoint());
    }
    c
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `models list --json` entry of the SmolLM2 model.
fn list_entry(home: &Path) -> Value {
    let out = tandem(home, None).args(["models", "list", "--json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["models"].as_array().unwrap().iter().find(|m| m["id"] == SMOL).unwrap().clone()
}

#[test]
fn a_killed_fetch_continues_where_it_stopped() {
    let source = real_model(SMOL);
    let catalog = tandem_models::Catalog::builtin();
    let model = catalog.get(SMOL).unwrap();
    let size = model.size;
    let hub = TestHub::start();
    hub.add_file_from_path(&model.hf_repo, &model.hf_file, &source).unwrap();
    hub.set_throttle(Some(16 << 20));
    let home = tempfile::tempdir().unwrap();

    let mut child = tandem(home.path(), Some(&hub))
        .args(["models", "fetch", SMOL, "--source", "hub", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Kill it past 40%, once some of the file is committed to disk: hf-hub fetches pieces
    // in parallel and records only the finished prefix, which can lag what has arrived.
    loop {
        let line = lines.next().expect("fetch ended before 40% of it was kept").unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["type"] == "progress"
            && event["doneBytes"].as_u64().unwrap() > size * 2 / 5
            && list_entry(home.path())["status"] == "partial"
        {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // The list shows a paused download, and nothing is usable yet.
    let entry = list_entry(home.path());
    assert_eq!(entry["status"], "partial", "{entry}");
    let kept = entry["downloadedBytes"].as_u64().unwrap();
    assert!(kept > 0 && kept < size, "{entry}");

    hub.set_throttle(None);
    let sent_before = hub.body_bytes_sent();
    let out =
        tandem(home.path(), Some(&hub)).args(["models", "fetch", SMOL, "--source", "hub", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let events = json_lines(&out.stdout);
    assert_eq!(events[0]["type"], "started");
    assert_eq!(events[0]["resumedFromBytes"].as_u64(), Some(kept), "{}", events[0]);
    let path = PathBuf::from(events.last().unwrap()["path"].as_str().unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&source).unwrap());
    assert!(
        hub.body_bytes_sent() - sent_before <= size - kept + 10_000_000,
        "the second run downloaded more than the rest"
    );

    // The model now resolves from the hub cache, for every command.
    let entry = list_entry(home.path());
    assert_eq!(entry["status"], "ready");
    assert_eq!(entry["path"].as_str(), path.to_str());

    let out = tandem(home.path(), None).args(["models", "rm", SMOL, "--json"]).output().unwrap();
    let removed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(removed["freedBytes"].as_u64(), Some(size));
    assert!(!path.exists());
}

#[test]
fn import_checks_the_file_and_remembers_it() {
    let home = tempfile::tempdir().unwrap();
    let source = real_model(SMOL);

    // A truncated copy is refused with a reason; nothing is added.
    let truncated = home.path().join("cut.gguf");
    let bytes = std::fs::read(&source).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = tandem(home.path(), None).args(["models", "import"]).arg(&truncated).arg("--json").output().unwrap();
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "bad_file", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("incomplete"), "{err}");

    // A foreign file too.
    let foreign = home.path().join("notes.gguf");
    std::fs::write(&foreign, b"these are my notes, not a model").unwrap();
    let out = tandem(home.path(), None).args(["models", "import"]).arg(&foreign).arg("--json").output().unwrap();
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "bad_file", "{err}");

    let out = tandem(home.path(), None).args(["models", "import"]).arg(&source).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let imported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = imported["id"].as_str().unwrap().to_string();
    assert_eq!(imported["info"]["architecture"], "llama");
    assert_eq!(imported["info"]["quantization"], "Q4_1");

    // The imported id works wherever a model is named.
    let out = tandem(home.path(), None)
        .args(["generate", "--target", &id, "--drafter", "none", "--max-tokens", "4", "--prompt", "Hi"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = tandem(home.path(), None).args(["models", "list", "--json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(list["models"].as_array().unwrap().iter().any(|m| m["id"] == id.as_str() && m["source"] == "imported"));

    let out = tandem(home.path(), None).args(["models", "rm", &id]).output().unwrap();
    assert!(out.status.success());
    assert!(source.exists(), "forgetting an import leaves the file alone");
}

#[test]
fn files_in_the_hub_cache_and_lm_studio_are_found() {
    let home = tempfile::tempdir().unwrap();
    let source = real_model(SMOL);
    let lm = home.path().join(".lmstudio/models/someone/Some-Model-GGUF");
    std::fs::create_dir_all(&lm).unwrap();
    std::os::unix::fs::symlink(&source, lm.join("some-model-q4_1.gguf")).unwrap();
    std::fs::write(lm.join("mmproj-some-model-f16.gguf"), b"vision projector").unwrap();

    let out = tandem(home.path(), None).args(["models", "list", "--json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&Value> = list["models"].as_array().unwrap().iter().filter(|m| m["source"] == "found").collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], "some-model-q4-1");
    assert!(found[0]["description"].as_str().unwrap().contains("LM Studio"));
}

#[test]
fn check_pair_explains_an_incompatible_pair() {
    let home = tempfile::tempdir().unwrap();
    let (smol, target) = (real_model(SMOL), real_model(TARGET));
    let out = tandem(home.path(), None)
        .args(["models", "check-pair"])
        .arg(&smol)
        .arg(&target)
        .arg("--json")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["compatible"], false);
    assert!(v["reason"].as_str().unwrap().contains("same model family"), "{v}");
}

#[test]
fn recommend_names_a_pair_and_judges_every_other() {
    let home = tempfile::tempdir().unwrap();
    let out = tandem(home.path(), None).args(["models", "recommend", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let others = v["others"].as_array().unwrap();
    assert_eq!(others.len(), tandem_models::Catalog::builtin().pairs.len());
    assert!(v["machine"]["totalRamBytes"].as_u64().unwrap() > 0);
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(!v["reason"].as_str().unwrap().is_empty());
    for p in others {
        assert!(["fits", "too_big", "too_slow", "no_disk"].contains(&p["verdict"].as_str().unwrap()), "{p}");
    }
    if let Some(pair) = v["pair"].as_object() {
        assert_eq!(pair["verdict"], "fits");
    }
}
