//! `tandem models ...`: the model list, downloads, imports, pair checks, recommendations.
//! Every subcommand takes `--json`; with it, failures print `{"error": {code, message}}`.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use serde_json::json;
use tandem_models::download::{DownloadControl, DownloadEvent, HubConfig};
use tandem_models::library::{Library, Source, Status};
use tandem_models::obtain::{obtain, SourceChoice};
use tandem_models::pair::check_pair_files;
use tandem_models::recommend::{recommend, Machine, Verdict};
use tandem_models::ModelsError;

use crate::args::{FetchSource, ModelsCommand};

pub fn run(cmd: ModelsCommand) -> Result<()> {
    let json = match &cmd {
        ModelsCommand::List { json }
        | ModelsCommand::Fetch { json, .. }
        | ModelsCommand::Import { json, .. }
        | ModelsCommand::CheckPair { json, .. }
        | ModelsCommand::Recommend { json }
        | ModelsCommand::Rm { json, .. } => *json,
    };
    let result = match cmd {
        ModelsCommand::List { json } => list(json),
        ModelsCommand::Fetch { id, source, json } => fetch(&id, source, json),
        ModelsCommand::Import { path, json } => import(&path, json),
        ModelsCommand::CheckPair { draft, target, json } => check(&draft, &target, json),
        ModelsCommand::Recommend { json } => recommend_cmd(json),
        ModelsCommand::Rm { id, json } => rm(&id, json),
    };
    match result {
        Err(e) if json => {
            let code = e.downcast_ref::<ModelsError>().map_or("internal", ModelsError::code);
            println!("{}", json!({"error": {"code": code, "message": format!("{e:#}")}}));
            std::process::exit(1);
        }
        other => other,
    }
}

fn list(as_json: bool) -> Result<()> {
    let library = Library::from_env()?;
    let entries = library.entries();
    let catalog = library.catalog();
    if as_json {
        let pairs: Vec<_> = catalog
            .pairs
            .iter()
            .map(|p| json!({"draft": p.draft, "target": p.target, "default": p.default, "description": p.description}))
            .collect();
        println!("{}", json!({"models": entries, "pairs": pairs}));
        return Ok(());
    }
    println!("{:<34} {:>8}  {:<15} about", "model", "size", "status");
    for e in &entries {
        let status = match (e.status, e.source) {
            (Status::Ready, Source::Catalog) => "ready".to_string(),
            (Status::Ready, Source::Imported) => "imported".to_string(),
            (Status::Ready, Source::Found) => "found".to_string(),
            (Status::NotDownloaded, Source::Imported) => "file missing".to_string(),
            (Status::NotDownloaded, _) => "-".to_string(),
            (Status::Partial, _) => format!("paused {}%", percent(e.downloaded_bytes, e.size_bytes)),
            (Status::Downloading, _) => "downloading".to_string(),
        };
        let about =
            if e.source == Source::Catalog { e.description.clone() } else { format!("{} ({})", e.name, e.description) };
        let gated = if e.gated { " [needs a Hugging Face token]" } else { "" };
        println!("{:<34} {:>8}  {:<15} {about}{gated}", e.id, size(e.size_bytes), status);
    }
    println!("\npairs (draft -> target):");
    for p in &catalog.pairs {
        let mark = if p.default { " (default)" } else { "" };
        println!("  {} -> {}{mark}: {}", p.draft, p.target, p.description);
    }
    Ok(())
}

fn fetch(id: &str, source: FetchSource, as_json: bool) -> Result<()> {
    let library = Library::from_env()?;
    let model = library.catalog().get(id)?;
    let hub = HubConfig::from_env()?;
    let choice = match source {
        FetchSource::Auto => SourceChoice::Auto,
        FetchSource::Hub => SourceChoice::Hub,
        FetchSource::Mirror => SourceChoice::Mirror,
    };
    // A terminal gets one line redrawn in place; a log gets the milestones only.
    let live = std::io::stderr().is_terminal();
    let mut bar = ProgressLine::default();
    let path = obtain(model, choice, &library, &hub, &DownloadControl::new(), &mut |event| {
        if as_json {
            println!("{}", serde_json::to_string(&event).expect("events serialise"));
        } else {
            bar.show(&event, live);
        }
    })?;
    if as_json {
        println!("{}", json!({"id": id, "path": path}));
    } else {
        bar.finish();
        println!("{}", path.display());
    }
    Ok(())
}

/// The one-line progress display of `models fetch`.
#[derive(Default)]
struct ProgressLine {
    drawn: bool,
}

impl ProgressLine {
    fn show(&mut self, event: &DownloadEvent, live: bool) {
        let (line, milestone) = match event {
            DownloadEvent::Started { id, total_bytes, resumed_from_bytes } if *resumed_from_bytes > 0 => {
                (format!("{id}: continuing at {} of {}", size(*resumed_from_bytes), size(*total_bytes)), true)
            }
            DownloadEvent::Started { id, total_bytes, .. } => {
                (format!("{id}: downloading {}", size(*total_bytes)), true)
            }
            DownloadEvent::Progress { id, done_bytes, total_bytes, bytes_per_second, eta_seconds } => {
                let pct = percent(*done_bytes, *total_bytes);
                let filled = (pct as usize * 24 / 100).min(24);
                let eta = eta_seconds.map_or(String::new(), |s| format!("  {} left", duration(s)));
                (
                    format!(
                        "{id}: [{}{}] {pct:>3}%  {} / {}  {}/s{eta}",
                        "#".repeat(filled),
                        "-".repeat(24 - filled),
                        size(*done_bytes),
                        size(*total_bytes),
                        size(*bytes_per_second as u64)
                    ),
                    false,
                )
            }
            DownloadEvent::Retrying { id, attempt, wait_seconds, reason } => {
                (format!("{id}: {reason}; try {attempt} in {wait_seconds:.0} s"), true)
            }
            DownloadEvent::Verifying { id, done_bytes, total_bytes } => {
                (format!("{id}: checking the checksum {}%", percent(*done_bytes, *total_bytes)), false)
            }
            DownloadEvent::Done { id, .. } => (format!("{id}: ready (checksum verified)"), true),
            DownloadEvent::Paused { id, done_bytes, total_bytes } => {
                (format!("{id}: paused at {} of {}", size(*done_bytes), size(*total_bytes)), true)
            }
        };
        let mut err = std::io::stderr();
        if live {
            let _ = write!(err, "\r\x1b[K{line}");
            self.drawn = true;
            if milestone && !matches!(event, DownloadEvent::Started { .. }) {
                let _ = writeln!(err);
                self.drawn = false;
            }
        } else if milestone {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.drawn {
            eprintln!();
        }
    }
}

fn import(path: &std::path::Path, as_json: bool) -> Result<()> {
    let mut library = Library::from_env()?;
    let imported = library.import(path)?;
    if as_json {
        println!("{}", json!({"id": imported.id, "path": imported.path, "info": imported.info}));
    } else {
        println!(
            "imported {} as `{}`: {} {}, {}; use it with --target {} or --draft {}",
            imported.path.display(),
            imported.id,
            imported.info.architecture,
            imported.info.quantization,
            size(imported.info.size_bytes),
            imported.id,
            imported.id
        );
    }
    Ok(())
}

fn check(draft: &str, target: &str, as_json: bool) -> Result<()> {
    let library = Library::from_env()?;
    let report = check_pair_files(&library.resolve(target)?, &library.resolve(draft)?);
    match (report, as_json) {
        (Ok(r), true) => println!("{}", json!({"compatible": true, "report": r})),
        (Ok(r), false) => println!(
            "compatible: the draft can serve this target (shared vocabulary {}, {} tail ids masked)",
            r.shared_vocab, r.masked_tail
        ),
        (Err(ModelsError::Incompatible(why)), true) => {
            println!("{}", json!({"compatible": false, "reason": why}));
            std::process::exit(1);
        }
        (Err(e), _) => return Err(e.into()),
    }
    Ok(())
}

fn recommend_cmd(as_json: bool) -> Result<()> {
    let library = Library::from_env()?;
    let machine = Machine::detect(&library);
    let rec = recommend(&library, &machine);
    if as_json {
        println!("{}", serde_json::to_string(&rec)?);
        return Ok(());
    }
    match &rec.pair {
        Some(p) => println!("recommended: {} -> {}", p.draft, p.target),
        None => println!("recommended: none"),
    }
    println!("{}\n", rec.reason);
    for p in &rec.others {
        let mark = match p.verdict {
            Verdict::Fits => "fits",
            Verdict::TooBig => "too big",
            Verdict::TooSlow => "too slow",
            Verdict::NoDisk => "no disk",
        };
        println!("  {:<9} {} -> {}: {}", mark, p.draft, p.target, p.reason);
    }
    Ok(())
}

fn rm(id: &str, as_json: bool) -> Result<()> {
    let mut library = Library::from_env()?;
    let freed = library.remove(id)?;
    if as_json {
        println!("{}", json!({"id": id, "freedBytes": freed}));
    } else if freed > 0 {
        println!("removed {id}, freeing {}", size(freed));
    } else {
        println!("removed {id} from the list");
    }
    Ok(())
}

fn percent(done: u64, total: u64) -> u64 {
    (done * 100).checked_div(total).unwrap_or(100).min(100)
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.0} kB", b as f64 / 1e3),
    }
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
