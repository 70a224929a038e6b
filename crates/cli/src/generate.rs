//! `tandem generate`: one answer, streamed in colour or printed as one JSON object.

use anyhow::{Context, Result};
use serde_json::json;
use std::sync::atomic::AtomicBool;
use tandem_engine::{Event, Output, StepEvent};
use tandem_models::{token_piece, ChatMessage, TokenStream, Tokenizer};
use tandem_session::Runtime;

use crate::args::GenerateArgs;
use crate::history_record::Recording;
use crate::render::{Origin, Painter};

pub fn run(args: GenerateArgs) -> Result<()> {
    let prompt_text = match (&args.prompt, &args.prompt_file) {
        (Some(p), _) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        (None, None) => unreachable!("clap requires one of --prompt and --prompt-file"),
    };
    let mut history = args.db.as_deref().map(|db| Recording::open(db, args.conversation.as_deref())).transpose()?;
    let mut rt = Runtime::load(&args.pair.config())?;
    let sampling = args.sampling.config();
    let go = AtomicBool::new(false);
    let prompt = if args.raw {
        rt.raw_prompt(&prompt_text)?
    } else {
        let mut messages = history.as_ref().map(|h| h.chat_history().to_vec()).unwrap_or_default();
        if let Some(s) = &args.system {
            messages.push(ChatMessage::system(s.clone()));
        }
        messages.push(ChatMessage::user(prompt_text.clone()));
        rt.chat_prompt(&messages)?
    };
    let speculate = rt.drafter_name() != "none";
    if let Some(h) = &mut history {
        h.begin(&args, &prompt_text, rt.drafter_name(), rt.tokenizer.clone())?;
    }
    if args.json {
        let out = rt.generate(&prompt, &sampling, speculate, &go, &mut |e: &Event| {
            if let Some(h) = &mut history {
                h.on_event(e);
            }
        })?;
        println!("{}", output_json(&out, &rt.tokenizer));
        return history.map_or(Ok(()), Recording::finish);
    }
    let mut painter = Painter::stdout();
    if let Some(legend) = painter.legend() {
        eprintln!("{legend}\n");
    }
    let tokenizer = rt.tokenizer.clone();
    let mut stream = TokenStream::new(&tokenizer);
    let out = rt.generate(&prompt, &sampling, speculate, &go, &mut |e: &Event| {
        if let Event::Step(step) = e {
            paint_step(&mut painter, &mut stream, &tokenizer, step);
        }
        if let Some(h) = &mut history {
            h.on_event(e);
        }
    })?;
    painter.paint(&stream.flush(), Origin::Target);
    println!();
    let s = &out.stats;
    eprintln!(
        "\n{} tokens · {:.1} tok/s · drafter {} · accepted {}/{} drafted ({:.0}%) · {} · stop: {:?}",
        s.generated,
        s.tokens_per_second,
        s.drafter,
        s.accepted,
        s.drafted,
        s.acceptance_rate * 100.0,
        rt.devices_line(),
        out.reason
    );
    history.map_or(Ok(()), Recording::finish)
}

/// Paints one step: the accepted guesses, the rejected ones right after them, then the
/// target's own token. Only committed tokens go through the UTF-8-safe stream.
pub fn paint_step(painter: &mut Painter, stream: &mut TokenStream, tokenizer: &Tokenizer, step: &StepEvent) {
    let n_draft = step.accepted.min(step.committed.len());
    for &t in &step.committed[..n_draft] {
        painter.paint(&stream.push(t), Origin::AcceptedDraft);
    }
    for &t in &step.drafted[step.accepted..] {
        painter.paint(&token_piece(tokenizer, t), Origin::Rejected);
    }
    for &t in &step.committed[n_draft..] {
        painter.paint(&stream.push(t), Origin::Target);
    }
}

/// The `--json` contract: `{"text", "tokens", "stats": {...}}`.
pub fn output_json(out: &Output, tokenizer: &Tokenizer) -> serde_json::Value {
    json!({
        "text": tokenizer.decode(&out.tokens),
        "tokens": out.tokens,
        "stop_reason": out.reason,
        "stats": out.stats,
    })
}
