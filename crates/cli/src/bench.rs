//! `tandem bench`: plain and speculative decoding in turn on each prompt of a set, in one
//! process, so their speeds are compared under the same conditions.

use std::io::BufRead;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tandem_models::ChatMessage;
use tandem_session::{Runtime, Sampling};

use crate::args::BenchArgs;

#[derive(Deserialize)]
struct PromptLine {
    id: String,
    prompt: String,
}

#[derive(Serialize)]
struct Row {
    id: String,
    plain_tokens: usize,
    plain_tps: f64,
    spec_tokens: usize,
    spec_tps: f64,
    acceptance: f64,
    mean_accepted: f64,
    drafted: usize,
    speedup: f64,
    identical: bool,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let prompts = read_prompts(&args.prompts)?;
    let mut rt = Runtime::load(&args.pair.config())?;
    if rt.drafter_name() == "none" {
        bail!("bench compares plain with speculative decoding: choose a drafter other than none");
    }
    let sampling = Sampling { max_tokens: args.max_tokens, ..Sampling::default() };
    let go = AtomicBool::new(false);
    // Page the weights in, settle the thread pool, and let the draft-length policy see a
    // first short answer, as it has in the app after the first message, before anything
    // is timed. The warm-up prompt is not in the set.
    let warm = rt.chat_prompt(&[ChatMessage::user("Say hello and introduce yourself in two sentences.")])?;
    let short = Sampling { max_tokens: 32, ..sampling.clone() };
    rt.generate(&warm, &short, false, &go, &mut |_| {})?;
    rt.generate(&warm, &short, true, &go, &mut |_| {})?;

    eprintln!("drafter: {}, max tokens: {}, {}", rt.drafter_name(), args.max_tokens, rt.devices_line());
    if let Some(note) = &rt.placement().note {
        eprintln!("{note}");
    }
    println!(
        "{:<16} {:>7} {:>9} {:>7} {:>9} {:>7} {:>8} {:>8} {:>9}",
        "prompt", "plain", "plain/s", "spec", "spec/s", "accept", "mean acc", "speedup", "identical"
    );
    let mut rows = Vec::new();
    for p in &prompts {
        let ids = rt.chat_prompt(&[ChatMessage::user(p.prompt.clone())])?;
        let plain = rt.generate(&ids, &sampling, false, &go, &mut |_| {})?;
        let spec = rt.generate(&ids, &sampling, true, &go, &mut |_| {})?;
        let row = Row {
            id: p.id.clone(),
            plain_tokens: plain.stats.generated,
            plain_tps: plain.stats.tokens_per_second,
            spec_tokens: spec.stats.generated,
            spec_tps: spec.stats.tokens_per_second,
            acceptance: spec.stats.acceptance_rate,
            mean_accepted: spec.stats.mean_accepted,
            drafted: spec.stats.drafted,
            speedup: spec.stats.tokens_per_second / plain.stats.tokens_per_second,
            identical: plain.tokens == spec.tokens,
        };
        println!(
            "{:<16} {:>7} {:>9.2} {:>7} {:>9.2} {:>6.0}% {:>8.2} {:>7.2}x {:>9}",
            row.id,
            row.plain_tokens,
            row.plain_tps,
            row.spec_tokens,
            row.spec_tps,
            row.acceptance * 100.0,
            row.mean_accepted,
            row.speedup,
            row.identical
        );
        rows.push(row);
    }
    let mut speedups: Vec<f64> = rows.iter().map(|r| r.speedup).collect();
    speedups.sort_by(f64::total_cmp);
    let median = speedups[speedups.len() / 2];
    let worst = speedups[0];
    let plain_total: f64 = rows.iter().map(|r| r.plain_tokens as f64 / r.plain_tps).sum();
    let spec_total: f64 = rows.iter().map(|r| r.spec_tokens as f64 / r.spec_tps).sum();
    let tokens_plain: usize = rows.iter().map(|r| r.plain_tokens).sum();
    let tokens_spec: usize = rows.iter().map(|r| r.spec_tokens).sum();
    let aggregate = (tokens_spec as f64 / spec_total) / (tokens_plain as f64 / plain_total);
    let all_identical = rows.iter().all(|r| r.identical);
    println!(
        "median speedup {median:.2}x · worst {worst:.2}x · aggregate {aggregate:.2}x · identical on {}/{} prompts",
        rows.iter().filter(|r| r.identical).count(),
        rows.len()
    );
    if let Some(path) = &args.json {
        let report = json!({
            "drafter": rt.drafter_name(),
            "max_tokens": args.max_tokens,
            "kernels": tandem_kernels_level(),
            "target_device": rt.placement().target.id(),
            "draft_device": rt.placement().draft.map(|d| d.id()),
            "prompts": rows,
            "median_speedup": median,
            "worst_speedup": worst,
            "aggregate_speedup": aggregate,
            "all_identical": all_identical,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !all_identical {
        bail!("speculative output differed from plain output on some prompt");
    }
    Ok(())
}

fn tandem_kernels_level() -> &'static str {
    tandem_models::kernels_level()
}

fn read_prompts(path: &std::path::Path) -> Result<Vec<PromptLine>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a {{\"id\",\"prompt\"}} line", path.display(), n + 1))?,
        );
    }
    if out.is_empty() {
        bail!("{} has no prompts", path.display());
    }
    Ok(out)
}
