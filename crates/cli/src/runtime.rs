//! A loaded pair with its drafter and generator: what generate, bench and chat share.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Result};
use tandem_engine::{
    DraftLength, Drafter, Event, GenerateConfig, Generator, HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter,
    Output, SamplingParams, TokenId,
};
use tandem_models::{ChatMessage, ChatTemplate, LoadedPair, StopStrings, Tokenizer, Transformer};

use crate::args::{DrafterChoice, PairArgs, SamplingArgs};

/// The models, the drafter chosen for them, and the generator that remembers what the
/// target's cache holds between turns.
pub struct Runtime {
    target: Transformer,
    /// Shared so that event callbacks can detokenise while the target is generating.
    pub tokenizer: Arc<Tokenizer>,
    template: ChatTemplate,
    drafter: Option<Box<dyn Drafter>>,
    drafter_name: &'static str,
    draft_length: DraftLength,
    generator: Generator,
}

impl Runtime {
    pub fn load(args: &PairArgs) -> Result<Runtime> {
        if (args.drafter == DrafterChoice::Model || args.drafter == DrafterChoice::Hybrid) && args.draft.is_none() {
            bail!("--drafter {:?} needs a draft model: add --draft ID_OR_PATH", args.drafter);
        }
        let draft_spec = if args.drafter == DrafterChoice::None || args.drafter == DrafterChoice::Ngram {
            None
        } else {
            args.draft.as_deref()
        };
        let LoadedPair { target, draft, .. } = LoadedPair::load(&args.target, draft_spec, None)?;
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
        })
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

    /// Generates from `prompt`; `speculate = false` is plain target decoding.
    pub fn generate(
        &mut self,
        prompt: &[TokenId],
        sampling: &SamplingArgs,
        speculate: bool,
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
        };
        let cancel = AtomicBool::new(false);
        let drafter = match &mut self.drafter {
            Some(d) if speculate => Some(d.as_mut() as &mut dyn Drafter),
            _ => None,
        };
        Ok(self.generator.generate(&mut self.target, drafter, prompt, &mut cfg, &cancel, on_event)?)
    }
}

fn build_drafter(
    choice: DrafterChoice,
    draft: Option<Transformer>,
    target_vocab: usize,
) -> (Option<Box<dyn Drafter>>, &'static str) {
    let ngram = || NgramDrafter::new(NgramConfig::default());
    match (choice, draft) {
        (DrafterChoice::None, _) => (None, "none"),
        (DrafterChoice::Ngram, _) | (DrafterChoice::Auto, None) => (Some(Box::new(ngram())), "ngram"),
        (DrafterChoice::Model, Some(d)) => (Some(Box::new(ModelDrafter::new(d, target_vocab))), "model"),
        (DrafterChoice::Hybrid | DrafterChoice::Auto, Some(d)) => {
            (Some(Box::new(HybridDrafter::new(ngram(), ModelDrafter::new(d, target_vocab)))), "hybrid")
        }
        (DrafterChoice::Model | DrafterChoice::Hybrid, None) => unreachable!("checked in Runtime::load"),
    }
}
