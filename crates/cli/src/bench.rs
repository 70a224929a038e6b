//! `tandem bench`: plain and speculative decoding in turn on each prompt of a set, in one
//! process, so their speeds are compared under the same conditions.

use std::io::BufRead;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tandem_engine::Event;
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
    /// The median of `speedups`.
    speedup: f64,
    /// Speculative over plain speed, run by run.
    speedups: Vec<f64>,
    /// With simulated costs: the speedup of the fastest plan any draft-length policy could
    /// have followed, knowing which guesses the target accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    ceiling: Option<f64>,
    identical: bool,
}

/// The middle value (the mean of the two middle ones for an even count); `v` is not empty.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let prompts = read_prompts(&args.prompts)?;
    let mut rt = Runtime::load(&args.pair.config())?;
    if rt.drafter_name() == "none" {
        bail!("bench compares plain with speculative decoding: choose a drafter other than none");
    }
    rt.simulate_costs(args.simulate.clone());
    let sampling = Sampling { max_tokens: args.max_tokens, ..Sampling::default() };
    let go = AtomicBool::new(false);
    // Page the weights in, settle the thread pool, and let the draft-length policy see a
    // first short answer, as it has in the app after the first message, before anything
    // is timed. The warm-up prompt is not in the set. Plain runs never teach the policy
    // (see below).
    let warm = rt.chat_prompt(&[ChatMessage::user("Say hello and introduce yourself in two sentences.")])?;
    let short = Sampling { max_tokens: 32, ..sampling.clone() };
    let fresh = rt.policy().clone();
    rt.generate(&warm, &short, false, &go, &mut |_| {})?;
    rt.set_policy(fresh);
    rt.generate(&warm, &short, true, &go, &mut |_| {})?;

    eprintln!(
        "drafter: {}, max tokens: {}, runs per prompt: {}, {}",
        rt.drafter_name(),
        args.max_tokens,
        args.runs,
        rt.devices_line()
    );
    if let Some(note) = &rt.placement().note {
        eprintln!("{note}");
    }
    if let Some(costs) = &args.simulate {
        eprintln!("step times simulated, not measured: {costs:?}");
    }
    let simulated = args.simulate.is_some();
    println!(
        "{:<16} {:>7} {:>9} {:>7} {:>9} {:>7} {:>8} {:>8} {:>9}{}",
        "prompt",
        "plain",
        "plain/s",
        "spec",
        "spec/s",
        "accept",
        "mean acc",
        "speedup",
        "identical",
        if simulated { format!(" {:>8}", "ceiling") } else { String::new() }
    );
    let mut rows = Vec::new();
    // Plain and fastest-plan milliseconds of each prompt, for the aggregate ceiling.
    let mut ceiling_ms = Vec::new();
    for p in &prompts {
        let ids = rt.chat_prompt(&[ChatMessage::user(p.prompt.clone())])?;
        let (mut plain, mut spec) = (Vec::new(), Vec::new());
        // The target's token at every plain step: the answer the ceiling plans over.
        let mut answer = Vec::new();
        for run in 0..args.runs {
            // A plain run must not teach the policy: its one-token calls would tell the
            // speculative run that follows what plain decoding costs right now, which the
            // app, never decoding plainly beside an answer, does not know.
            let learned = rt.policy().clone();
            plain.push(rt.generate(&ids, &sampling, false, &go, &mut |e| match e {
                Event::Step(s) if run == 0 => answer.push(s.token),
                _ => {}
            })?);
            rt.set_policy(learned);
            spec.push(rt.generate(&ids, &sampling, true, &go, &mut |_| {})?);
        }
        // After every timed run, so that reading the answer disturbs none of them.
        let fastest = rt.fastest_decode_ms(&ids, &answer)?;
        ceiling_ms.extend(fastest.map(|ms| (plain[0].stats.decode_ms, ms)));
        let speedups: Vec<f64> =
            plain.iter().zip(&spec).map(|(p, s)| s.stats.tokens_per_second / p.stats.tokens_per_second).collect();
        let drafted: usize = spec.iter().map(|s| s.stats.drafted).sum();
        let accepted: f64 = spec.iter().map(|s| s.stats.acceptance_rate * s.stats.drafted as f64).sum();
        let runs = spec.len() as f64;
        let row = Row {
            id: p.id.clone(),
            plain_tokens: plain[0].stats.generated,
            plain_tps: median(plain.iter().map(|p| p.stats.tokens_per_second).collect()),
            spec_tokens: spec[0].stats.generated,
            spec_tps: median(spec.iter().map(|s| s.stats.tokens_per_second).collect()),
            acceptance: if drafted > 0 { accepted / drafted as f64 } else { 0.0 },
            mean_accepted: spec.iter().map(|s| s.stats.mean_accepted).sum::<f64>() / runs,
            drafted: (drafted as f64 / runs).round() as usize,
            speedup: median(speedups.clone()),
            speedups,
            ceiling: fastest.map(|ms| plain[0].stats.decode_ms / ms),
            identical: plain.iter().chain(&spec).all(|r| r.tokens == plain[0].tokens),
        };
        println!(
            "{:<16} {:>7} {:>9.2} {:>7} {:>9.2} {:>6.0}% {:>8.2} {:>7.2}x {:>9}{}",
            row.id,
            row.plain_tokens,
            row.plain_tps,
            row.spec_tokens,
            row.spec_tps,
            row.acceptance * 100.0,
            row.mean_accepted,
            row.speedup,
            row.identical,
            row.ceiling.map_or(String::new(), |c| format!(" {c:>7.2}x"))
        );
        rows.push(row);
    }
    let ceiling = (!ceiling_ms.is_empty()).then(|| {
        let (plain, fastest) = ceiling_ms.iter().fold((0.0, 0.0), |(p, f), (pm, fm)| (p + pm, f + fm));
        (median(rows.iter().filter_map(|r| r.ceiling).collect()), plain / fastest)
    });
    let speedups: Vec<f64> = rows.iter().map(|r| r.speedup).collect();
    let worst = speedups.iter().copied().fold(f64::INFINITY, f64::min);
    let median = median(speedups);
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
    if let Some((median, aggregate)) = ceiling {
        println!(
            "ceiling (the fastest plan knowing every guess's fate): median {median:.2}x · aggregate {aggregate:.2}x"
        );
    }
    if let Some(path) = &args.json {
        let report = json!({
            "drafter": rt.drafter_name(),
            "max_tokens": args.max_tokens,
            "runs": args.runs,
            "kernels": tandem_kernels_level(),
            "target_device": rt.placement().target.id(),
            "draft_device": rt.placement().draft.map(|d| d.id()),
            "prompts": rows,
            "median_speedup": median,
            "worst_speedup": worst,
            "aggregate_speedup": aggregate,
            "all_identical": all_identical,
            "simulated_costs": args.simulate,
            "ceiling_median": ceiling.map(|c| c.0),
            "ceiling_aggregate": ceiling.map(|c| c.1),
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
