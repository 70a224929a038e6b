//! Shared helpers for the cross-crate tests: where the real models are, the benchmark
//! prompt set, and plain-versus-speculative runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use tandem_engine::Model;
use tandem_engine::{generate, DraftLength, Drafter, GenerateConfig, Output, SamplingParams, TokenId};
use tandem_models::{ChatMessage, DeviceChoice, LoadedModel};

pub const TARGET: &str = "qwen2.5-coder-1.5b-instruct";
pub const DRAFT: &str = "qwen2.5-coder-0.5b-instruct";
pub const SMOL: &str = "smollm2-135m-instruct";

/// Path of a catalog model in the cache. Panics with the command that fetches it, so a
/// missing model fails the test run instead of skipping it.
pub fn model_path(id: &str) -> PathBuf {
    match tandem_models::cache::resolve(id) {
        Ok(p) => p,
        Err(e) => panic!("{e}\n(the README's test command fetches every model the tests use)"),
    }
}

/// The repository root (this package lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One prompt of the shipped benchmark set.
pub struct BenchPrompt {
    pub id: String,
    pub prompt: String,
}

/// The shipped prompt set (`tests/prompts/bench.jsonl`).
pub fn bench_prompts() -> Vec<BenchPrompt> {
    let text = std::fs::read_to_string(repo_root().join("tests/prompts/bench.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let id = field(l, "id");
            let prompt = field(l, "prompt");
            BenchPrompt { id, prompt }
        })
        .collect()
}

/// A string field of a one-line JSON object (the prompt file is simple JSON lines).
fn field(line: &str, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v[name].as_str().unwrap_or_else(|| panic!("prompt line without `{name}`: {line}")).to_string()
}

/// The chat prompt ids for a single user message with the model's default system prompt.
pub fn chat_prompt(model: &LoadedModel, user: &str) -> Vec<TokenId> {
    let text = model.template.render(&[ChatMessage::user(user)], true).unwrap();
    model.tokenizer.encode(&text, true).unwrap()
}

/// The device the real-model tests run on: the processor, unless `TANDEM_TEST_DEVICE`
/// names another (`cuda`, `cuda:1`, `metal`; the GPU check script sets it).
pub fn test_device() -> DeviceChoice {
    std::env::var("TANDEM_TEST_DEVICE")
        .map_or(DeviceChoice::Cpu, |d| DeviceChoice::parse(&d).expect("TANDEM_TEST_DEVICE names a device"))
}

/// Greedy or sampled generation with the given drafter (None = plain decoding).
pub fn run(
    target: &mut dyn Model,
    drafter: Option<&mut dyn Drafter>,
    prompt: &[TokenId],
    max_tokens: usize,
    draft_length: DraftLength,
    sampling: SamplingParams,
    eos: &[TokenId],
) -> Output {
    let mut cfg = GenerateConfig { max_tokens, draft_length, sampling, eos: eos.to_vec(), ..GenerateConfig::default() };
    generate(target, drafter, prompt, &mut cfg, &AtomicBool::new(false), &mut |_| {}).unwrap()
}
