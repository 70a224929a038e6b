//! The `tandem` binary's contract, which scripts and other checks rely on.

use std::process::Command;

const TARGET: &str = "qwen2.5-coder-1.5b-instruct";
const SMOL: &str = "smollm2-135m-instruct";

fn model_path(id: &str) -> std::path::PathBuf {
    tandem_models::cache::resolve(id)
        .unwrap_or_else(|e| panic!("{e}\n(the README's test command fetches every model the tests use)"))
}

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tandem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
}

#[test]
fn generate_json_has_the_documented_fields() {
    let out = tandem()
        .args(["generate", "--target", SMOL, "--drafter", "ngram", "--max-tokens", "24", "--json"])
        .args(["--prompt", "List the days of the week."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["tokens"].as_array().is_some_and(|t| !t.is_empty() && t.len() <= 24));
    for key in [
        "generated",
        "drafted",
        "accepted",
        "acceptance_rate",
        "steps",
        "mean_accepted",
        "prefill_ms",
        "decode_ms",
        "tokens_per_second",
        "drafter",
    ] {
        assert!(!v["stats"][key].is_null(), "stats.{key} missing in {v}");
    }
    assert_eq!(v["stats"]["generated"].as_u64().unwrap() as usize, v["tokens"].as_array().unwrap().len());
    assert_eq!(v["stats"]["drafter"], "ngram");
}

#[test]
fn plain_and_ngram_generate_the_same_text() {
    let gen = |drafter: &str| {
        let out = tandem()
            .args(["generate", "--target", SMOL, "--drafter", drafter, "--max-tokens", "40", "--json"])
            .args(["--prompt", "Repeat after me: one two three, one two three, one two three."])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let plain = gen("none");
    let spec = gen("ngram");
    assert_eq!(plain["tokens"], spec["tokens"]);
    assert_eq!(plain["stats"]["drafter"], "none");
}

/// Runs `tandem bench` with prompt lookup on SmolLM2 over `prompts` (JSON lines) with
/// `args`, and returns its JSON report.
fn bench_report(prompts: &str, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let (file, report) = (dir.path().join("p.jsonl"), dir.path().join("r.json"));
    std::fs::write(&file, prompts).unwrap();
    let out = tandem()
        .args(["bench", "--target", SMOL, "--drafter", "ngram"])
        .args(args)
        .arg("--prompts")
        .arg(&file)
        .arg("--json")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
}

#[test]
fn bench_reports_every_prompt_and_identical_output() {
    let v = bench_report(
        "{\"id\":\"days\",\"prompt\":\"List the days of the week.\"}\n{\"id\":\"count\",\"prompt\":\"Count from one to ten in words.\"}\n",
        &["--max-tokens", "24", "--runs", "3"],
    );
    let rows = v["prompts"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(v["runs"], 3);
    for r in rows {
        assert_eq!(r["identical"], true);
        assert!(r["plain_tps"].as_f64().unwrap() > 0.0 && r["spec_tps"].as_f64().unwrap() > 0.0);
        let mut each: Vec<f64> = r["speedups"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(each.len(), 3, "one speedup per run");
        each.sort_by(f64::total_cmp);
        assert_eq!(r["speedup"].as_f64().unwrap(), each[1], "the row's speedup is the median run's");
        assert!(r.get("ceiling").is_none(), "a ceiling needs simulated costs");
    }
    assert_eq!(v["all_identical"], true);
}

#[test]
fn simulated_bench_reports_a_ceiling_no_run_passes() {
    let v = bench_report(
        "{\"id\":\"count\",\"prompt\":\"Count from one to twenty in words, twice.\"}\n",
        &["--max-tokens", "48", "--simulate", "draft=5,verify=20:22:23:24"],
    );
    let row = &v["prompts"][0];
    let (speedup, ceiling) = (row["speedup"].as_f64().unwrap(), row["ceiling"].as_f64().unwrap());
    assert!(ceiling >= speedup - 1e-9, "the fastest plan ({ceiling}) is never slower than a run ({speedup})");
    assert!(ceiling > 1.0, "prompt lookup repeats the count for free: {ceiling}");
    assert_eq!(v["ceiling_median"].as_f64(), Some(ceiling));
}

#[test]
fn incompatible_pair_fails_with_a_plain_reason() {
    let out = tandem()
        .args(["generate", "--target", TARGET, "--drafter", "model", "--prompt", "hi"])
        .arg("--draft")
        .arg(model_path(SMOL))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different vocabulary"), "{err}");
}

#[test]
fn shipped_prompt_set_is_valid() {
    let text = std::fs::read_to_string(repo_root().join("tests/prompts/bench.jsonl")).unwrap();
    let kinds: std::collections::HashSet<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    for k in ["code", "editing", "email", "chinese"] {
        assert!(kinds.contains(k), "the prompt set lacks a {k} prompt");
    }
}
