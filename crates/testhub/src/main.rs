//! `tandem-testhub`: serve files over the hub's download protocol, for demos and end-to-end tests.
//! Point `HF_ENDPOINT` at the printed endpoint.

use std::io::Write;
use std::process::ExitCode;
use tandem_testhub::{Fault, TestHub};

const USAGE: &str = "usage: tandem-testhub [--port P] --serve ORG/REPO FILENAME PATH [--serve ...] \
[--throttle BYTES_PER_SEC] [--cut-at FRACTION]

Serves each PATH as FILENAME of ORG/REPO at revision main, the way the Hugging Face hub serves LFS
files (a redirect to a CDN URL with range support). --throttle slows every body down; --cut-at
cuts the first body request of every file at that fraction of the file. Prints
`endpoint http://127.0.0.1:PORT` once listening, then serves until killed.";

struct Args {
    port: u16,
    serve: Vec<(String, String, String)>,
    throttle: Option<u64>,
    cut_at: Option<f64>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { port: 0, serve: Vec::new(), throttle: None, cut_at: None };
    while let Some(flag) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "--port" => parsed.port = value("a port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--throttle" => {
                parsed.throttle = Some(value("bytes per second")?.parse().map_err(|e| format!("--throttle: {e}"))?)
            }
            "--cut-at" => parsed.cut_at = Some(value("a fraction")?.parse().map_err(|e| format!("--cut-at: {e}"))?),
            "--serve" => parsed.serve.push((value("ORG/REPO")?, value("FILENAME")?, value("PATH")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if parsed.serve.is_empty() {
        return Err("nothing to serve: give at least one --serve".to_string());
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("tandem-testhub: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if message.is_empty() { 0 } else { 2 });
        }
    };
    let hub = match TestHub::start_on(args.port) {
        Ok(hub) => hub,
        Err(e) => {
            eprintln!("tandem-testhub: cannot listen on port {}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let mut cut_files: Vec<&str> = Vec::new();
    for (repo, filename, path) in &args.serve {
        if let Err(e) = hub.add_file_from_path(repo, filename, path) {
            eprintln!("tandem-testhub: cannot serve {path}: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("serving {repo}/{filename} from {path}");
        if let Some(fraction) = args.cut_at.filter(|_| !cut_files.contains(&filename.as_str())) {
            hub.push_fault(filename, Fault::CutAt(fraction));
            cut_files.push(filename);
        }
    }
    hub.set_throttle(args.throttle);
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "endpoint {}", hub.endpoint());
    let _ = stdout.flush();
    loop {
        std::thread::park();
    }
}
