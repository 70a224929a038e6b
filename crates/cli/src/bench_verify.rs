//! `tandem bench-verify`: the cost of one target forward over k tokens, so the
//! verification cost curve is visible without a profiler.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;
use tandem_engine::{LogitsWanted, Model};
use tandem_models::{cache, DeviceChoice, GgufFile, LoadedModel, Runner};

use crate::args::BenchVerifyArgs;

pub fn run(args: BenchVerifyArgs) -> Result<()> {
    let ks: Vec<usize> = args
        .k
        .split(',')
        .map(|s| s.trim().parse::<usize>().with_context(|| format!("--k: `{s}` is not a number")))
        .collect::<Result<_>>()?;
    if ks.contains(&0) {
        bail!("--k values must be at least 1");
    }
    let device = DeviceChoice::parse(&args.device)?;
    let path = cache::resolve(&args.model)?;
    let mut model = if args.as_draft {
        Runner::load_draft(&GgufFile::open(&path)?, device, None)?
    } else {
        LoadedModel::load_on(&path, device, None)?.0.transformer
    };
    let vocab = model.vocab_size() as u32;
    // A context of `position` tokens, as in the middle of an answer.
    let context: Vec<u32> = (0..args.position as u32).map(|i| 1000 + (i * 7919) % (vocab - 2000)).collect();
    model.forward(&context, LogitsWanted::Last)?;
    let base = model.cached_len();
    let mut rows = Vec::new();
    for &k in &ks {
        let tokens: Vec<u32> = (0..k as u32).map(|i| 7000 + i).collect();
        // One untimed call pages weights in and settles the thread pool.
        model.forward(&tokens, LogitsWanted::All)?;
        model.truncate(base);
        let mut times = Vec::with_capacity(args.reps);
        for _ in 0..args.reps {
            let t = Instant::now();
            model.forward(&tokens, LogitsWanted::All)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            model.truncate(base);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        rows.push((k, median, times[0]));
    }
    let one = rows.iter().find(|r| r.0 == 1).map(|r| r.1);
    let on = match &model {
        Runner::Cpu(_) => format!("{} kernels", tandem_models::kernels_level()),
        Runner::Accelerated(_) => model.device_name(),
    };
    // Calls wider than this are not used for verification on this device.
    let exact = model.exact_rows();
    if args.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(k, med, min)| json!({"k": k, "median_ms": med, "min_ms": min, "vs_k1": one.map(|o| med / o)}))
            .collect();
        println!(
            "{}",
            json!({
                "model": args.model,
                "position": args.position,
                "kernels": tandem_models::kernels_level(),
                "device": model.device_name(),
                "exact_rows": (exact != usize::MAX).then_some(exact),
                "rows": v
            })
        );
    } else {
        println!("{} at position {} ({on}), median of {} calls:", args.model, args.position, args.reps);
        if exact != usize::MAX {
            println!(
                "  rows are exact up to {exact} tokens per call on this device (wider calls are not used to verify)"
            );
        }
        for (k, med, min) in &rows {
            let rel = one.map(|o| format!("{:.2}x k=1", med / o)).unwrap_or_default();
            println!("  k={k:<3} {med:>8.1} ms (min {min:.1})  {rel}");
        }
    }
    Ok(())
}
