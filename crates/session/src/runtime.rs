//! A loaded pair with its drafter and generator: what the CLI's generate, bench and chat
//! and the desktop app share.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tandem_engine::{
    DraftLength, Drafter, Event, GenerateConfig, Generator, HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter,
    Output, Policy, SamplingParams, SimulatedCosts, TokenId,
};
use tandem_models::device::Placement;
use tandem_models::{ChatMessage, ChatTemplate, DeviceChoice, LoadedPair, PairDevices, Runner, StopStrings, Tokenizer};

use crate::error::{Result, SessionError};

/// Which drafter proposes tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrafterChoice {
    /// Draft model and prompt lookup together when a draft model is given; prompt lookup otherwise.
    #[default]
    Auto,
    /// The draft model only.
    Model,
    /// Prompt lookup (n-grams of the prompt and the answer so far); needs no draft model.
    Ngram,
    /// Prompt lookup when it finds a match, the draft model otherwise.
    Hybrid,
    /// Plain target decoding.
    #[serde(rename = "off", alias = "none")]
    None,
}

/// The models and how to decode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairConfig {
    /// Catalog id, imported id or GGUF path.
    pub target: String,
    pub draft: Option<String>,
    pub drafter: DrafterChoice,
    /// Fixed drafted tokens per step; `None` lets the policy adapt it (and choose plain decoding).
    pub draft_max: Option<usize>,
    /// Upper bound of the adaptive draft length.
    pub draft_limit: usize,
    /// Where the target runs: `auto`, `cpu`, `cuda`, `cuda:N`, `metal`.
    #[serde(default = "auto")]
    pub target_device: String,
    /// Where the draft model runs (same names).
    #[serde(default = "auto")]
    pub draft_device: String,
}

fn auto() -> String {
    "auto".into()
}

/// How one answer is decoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sampling {
    pub max_tokens: usize,
    /// 0 is greedy decoding.
    pub temperature: f32,
    pub top_p: f32,
    pub seed: u64,
    /// The answer ends where one of these appears; the text itself is not kept.
    pub stop: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Sampling {
        Sampling { max_tokens: 512, temperature: 0.0, top_p: 1.0, seed: 0, stop: Vec::new() }
    }
}

/// The models, the drafter chosen for them, and the generator that remembers what the
/// target's cache holds between turns.
pub struct Runtime {
    target: Runner,
    /// Shared so that event callbacks can detokenise while the target is generating.
    pub tokenizer: Arc<Tokenizer>,
    template: ChatTemplate,
    drafter: Option<Box<dyn Drafter>>,
    drafter_name: &'static str,
    draft_length: DraftLength,
    generator: Generator,
    placement: Placement,
    simulated_costs: Option<SimulatedCosts>,
}

impl Runtime {
    pub fn load(args: &PairConfig) -> Result<Runtime> {
        if (args.drafter == DrafterChoice::Model || args.drafter == DrafterChoice::Hybrid) && args.draft.is_none() {
            return Err(SessionError::invalid(format!(
                "the {:?} drafter needs a draft model: choose one (--draft ID_OR_PATH)",
                args.drafter
            )));
        }
        let draft_spec = if args.drafter == DrafterChoice::None || args.drafter == DrafterChoice::Ngram {
            None
        } else {
            args.draft.as_deref()
        };
        let devices = PairDevices {
            target: DeviceChoice::parse(&args.target_device)?,
            draft: DeviceChoice::parse(&args.draft_device)?,
        };
        let LoadedPair { target, draft, placement, .. } = LoadedPair::load(&args.target, draft_spec, devices, None)?;
        let target_vocab = tandem_engine::Model::vocab_size(&target.transformer);
        let (drafter, drafter_name) = build_drafter(args.drafter, draft, target_vocab);
        let draft_length = match args.draft_max {
            Some(k) => DraftLength::Fixed(k),
            None => DraftLength::Auto { max: args.draft_limit },
        };
        Ok(Runtime {
            target: target.transformer,
            tokenizer: Arc::new(target.tokenizer),
            template: target.template,
            drafter,
            drafter_name,
            draft_length,
            generator: Generator::new(draft_length),
            placement,
            simulated_costs: None,
        })
    }

    /// Times every later generation's steps from `costs` instead of the clock (see
    /// [`SimulatedCosts`]); `None` goes back to the clock.
    pub fn simulate_costs(&mut self, costs: Option<SimulatedCosts>) {
        self.simulated_costs = costs;
    }

    /// The least decode time, under the simulated costs, in which any draft-length policy
    /// could have produced `answer`, the plain greedy answer to `prompt` (the token of each
    /// plain step, the end-of-sequence one included), knowing which guesses the target
    /// accepts: the ceiling `tandem bench --simulate` measures the policy against (see
    /// [`tandem_engine::hindsight`]). `None` without simulated costs or a drafter.
    pub fn fastest_decode_ms(&mut self, prompt: &[TokenId], answer: &[TokenId]) -> Result<Option<f64>> {
        let (Some(costs), Some(drafter)) = (&self.simulated_costs, self.drafter.as_mut()) else {
            return Ok(None);
        };
        let k = match self.draft_length {
            DraftLength::Fixed(k) => k,
            DraftLength::Auto { max } => max,
        };
        let sources = drafter.hindsight(prompt, answer, k)?;
        Ok(Some(tandem_engine::fastest_decode_ms(answer.len(), &sources, costs)))
    }

    /// What the draft-length policy has learned from this runtime's answers.
    pub fn policy(&self) -> &Policy {
        self.generator.policy()
    }

    /// Puts back what the policy knew, taken with [`Runtime::policy`].
    pub fn set_policy(&mut self, policy: Policy) {
        self.generator.set_policy(policy);
    }

    /// Where each model runs, and why when that was chosen automatically.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// Where the models run, in one line for people.
    pub fn devices_line(&self) -> String {
        let p = &self.placement;
        match p.draft {
            Some(d) if d == p.target => format!("both models on {}", p.target),
            Some(d) => format!("large model on {}, small model on {d}", p.target),
            None => format!("on {}", p.target),
        }
    }

    /// "model", "ngram", "hybrid" or "none".
    pub fn drafter_name(&self) -> &'static str {
        self.drafter_name
    }

    /// The chat prompt for `messages`, ending where the assistant's answer begins.
    pub fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Vec<TokenId>> {
        let text = self.template.render(messages, true)?;
        Ok(self.tokenizer.encode(&text, true)?)
    }

    /// Text typed by a person, fed without a template; control-token text stays plain text.
    pub fn raw_prompt(&self, text: &str) -> Result<Vec<TokenId>> {
        Ok(self.tokenizer.encode(text, false)?)
    }

    /// Generates from `prompt`; `speculate = false` is plain target decoding. Setting
    /// `cancel` ends the answer at the next step (reason `cancelled`).
    pub fn generate(
        &mut self,
        prompt: &[TokenId],
        sampling: &Sampling,
        speculate: bool,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Output> {
        let tokenizer = &self.tokenizer;
        let mut cfg = GenerateConfig {
            max_tokens: sampling.max_tokens,
            sampling: SamplingParams { temperature: sampling.temperature, top_p: sampling.top_p, seed: sampling.seed },
            draft_length: self.draft_length,
            eos: tokenizer.stop_ids().to_vec(),
            stop: (!sampling.stop.is_empty()).then(|| {
                let mut stops = StopStrings::new(self.tokenizer.clone(), &sampling.stop);
                Box::new(move |ids: &[TokenId]| stops.check(ids)) as tandem_engine::StopCheck
            }),
            vocab_limit: Some(tokenizer.vocab_size()),
            simulated_costs: self.simulated_costs.clone(),
        };
        let drafter = match &mut self.drafter {
            Some(d) if speculate => Some(d.as_mut() as &mut dyn Drafter),
            _ => None,
        };
        Ok(self.generator.generate(&mut self.target, drafter, prompt, &mut cfg, cancel, on_event)?)
    }
}

/// A guess is not proposed once the draft model's own estimate that all its guesses so far
/// are accepted falls below this: verifying it would mostly cost a row for nothing. (Such a
/// stop at 0.3, alone and with three guesses per step, first took the worst prompt, Chinese
/// prose, from 0.43x to 0.56x of plain speed and the median from 0.84x to 0.89x.)
const DRAFT_DOUBT: f32 = 0.15;

/// Drafting goes past a guess only while that estimate is at least this: the next guess
/// costs a whole draft forward (about a third of a target call on a CPU) before its doubt
/// is known, where a guess in hand costs only its row. Replayed with a two-core CPU's costs
/// (`tandem bench --simulate`, fast and slow memory) at fixed draft lengths of 2, 4 and 6,
/// these two against one threshold of 0.3 were as fast or faster on 34 of the 36 prompt
/// runs, editing at six the exception. At four, in fast memory: code 1.35x to 1.39x, a Rust
/// refactoring 1.30x to 1.42x, Chinese prose 0.81x to 0.90x. With the adaptive length, over
/// both memory states and prompt orders, the mean aggregate went from 1.30x to 1.32x.
const DRAFT_ON_DOUBT: f32 = 0.5;

/// The app's draft model drafter, stopping where the model doubts its guesses.
fn doubting(draft: Runner, target_vocab: usize) -> ModelDrafter<Runner> {
    ModelDrafter::new(draft, target_vocab).stopping_below(DRAFT_DOUBT).feeding_above(DRAFT_ON_DOUBT)
}

fn build_drafter(
    choice: DrafterChoice,
    draft: Option<Runner>,
    target_vocab: usize,
) -> (Option<Box<dyn Drafter>>, &'static str) {
    match (choice, draft) {
        (DrafterChoice::None, _) => (None, "none"),
        (DrafterChoice::Ngram, _) | (DrafterChoice::Auto, None) => {
            (Some(Box::new(NgramDrafter::new(NgramConfig::default()))), "ngram")
        }
        (DrafterChoice::Model, Some(d)) => (Some(Box::new(doubting(d, target_vocab))), "model"),
        (DrafterChoice::Hybrid | DrafterChoice::Auto, Some(d)) => (
            Some(Box::new(HybridDrafter::new(NgramDrafter::new(NgramConfig::BESIDE_MODEL), doubting(d, target_vocab)))),
            "hybrid",
        ),
        (DrafterChoice::Model | DrafterChoice::Hybrid, None) => unreachable!("checked in Runtime::load"),
    }
}
