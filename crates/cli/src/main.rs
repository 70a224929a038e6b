//! `tandem`: the headless front end of the Tandem engine, for scripting, tests and benchmarks.

mod args;
mod bench;
mod bench_verify;
mod chat;
mod devices;
mod generate;
mod history_cmd;
mod history_record;
mod models_cmd;
mod render;

use clap::Parser;

use args::{Cli, Command};

fn main() {
    restore_default_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Bench(a) => bench::run(a),
        Command::BenchVerify(a) => bench_verify::run(a),
        Command::Devices(a) => devices::run(a),
        Command::Chat(a) => chat::run(a),
        Command::Models(a) => models_cmd::run(a),
        Command::History(a) => history_cmd::run(a),
    };
    if let Err(e) = result {
        eprintln!("tandem: {e:#}");
        std::process::exit(1);
    }
}

/// `tandem models list | head` should end quietly when `head` stops reading, as other
/// command-line tools do, instead of panicking on a broken pipe (Rust ignores SIGPIPE).
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
