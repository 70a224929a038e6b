//! `tandem chat`: a conversation in the terminal on a model pair.

use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use tandem_engine::Event;
use tandem_models::{Catalog, ChatMessage, TokenStream};
use tandem_session::Runtime;

use crate::args::ChatArgs;
use crate::generate::paint_step;
use crate::render::{Origin, Painter};

pub fn run(mut args: ChatArgs) -> Result<()> {
    // The default target chats with its default draft unless told otherwise.
    let default = Catalog::builtin().default_pair();
    if args.pair.draft.is_none() && args.pair.target == default.target {
        args.pair.draft = Some(default.draft.clone());
    }
    eprintln!(
        "Loading {}{} …",
        args.pair.target,
        args.pair.draft.as_ref().map(|d| format!(" with draft {d}")).unwrap_or_default()
    );
    let mut rt = Runtime::load(&args.pair.config())?;
    let sampling = args.sampling.config();
    let go = AtomicBool::new(false);
    let mut painter = Painter::stdout();
    if let Some(legend) = painter.legend() {
        eprintln!("{legend}");
    }
    eprintln!("Type a message and press Enter. An empty line or Ctrl-D ends the chat.\n");
    let mut messages = Vec::new();
    if let Some(s) = &args.system {
        messages.push(ChatMessage::system(s.clone()));
    }
    let stdin = std::io::stdin();
    loop {
        eprint!("you> ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        messages.push(ChatMessage::user(line.trim_end().to_string()));
        let prompt = rt.chat_prompt(&messages)?;
        let tokenizer = rt.tokenizer.clone();
        let mut stream = TokenStream::new(&tokenizer);
        let speculate = rt.drafter_name() != "none";
        let out = rt.generate(&prompt, &sampling, speculate, &go, &mut |e: &Event| {
            if let Event::Step(step) = e {
                paint_step(&mut painter, &mut stream, &tokenizer, step);
            }
        })?;
        painter.paint(&stream.flush(), Origin::Target);
        println!();
        let s = &out.stats;
        eprintln!("[{:.1} tok/s · {} of {} guesses accepted]\n", s.tokens_per_second, s.accepted, s.drafted);
        messages.push(ChatMessage::assistant(tokenizer.decode(&out.tokens)));
    }
    Ok(())
}
