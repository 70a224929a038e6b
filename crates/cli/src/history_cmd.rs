//! `tandem history`: list, show, search, export and import the history database.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use tandem_store::{stats_line, time::format_short, Imported, MessageStatus, SearchHit, Store};

use crate::history_record::print_notices;

#[derive(Args)]
pub struct DbArg {
    /// The history database file (created if missing).
    #[arg(long)]
    pub db: PathBuf,
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// List conversations, the most recently changed first.
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Show a conversation's messages with their status and stats.
    Show {
        id: i64,
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Search messages and documents (every word must occur; the last may be a prefix).
    Search {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Export a conversation (or, with --document, a document) to stdout or a file.
    Export {
        id: i64,
        #[command(flatten)]
        db: DbArg,
        #[arg(long, value_enum, default_value = "md")]
        format: ExportFormat,
        /// ID is a document's, not a conversation's.
        #[arg(long)]
        document: bool,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Import a JSON export as a new conversation or document.
    Import {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Markdown, for reading.
    Md,
    /// JSON with every stat and the speculation trace; `history import` reads it back.
    Json,
}

fn open(db: &Path) -> Result<Store> {
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    print_notices(&store);
    Ok(store)
}

fn json_line(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn run(command: HistoryCommand) -> Result<()> {
    match command {
        HistoryCommand::List { db, json } => {
            let list = open(&db.db)?.list_conversations()?;
            if json {
                return json_line(&list);
            }
            if list.is_empty() {
                eprintln!("no conversations in {}", db.db.display());
            }
            for c in list {
                println!("{:>5}  {}  {:>3} messages  {}", c.id, format_short(c.updated_at), c.messages, c.title);
            }
            Ok(())
        }
        HistoryCommand::Show { id, db, json } => {
            let store = open(&db.db)?;
            let c = store.conversation(id)?;
            let messages = store.messages(id)?;
            if json {
                return json_line(&serde_json::json!({ "conversation": c, "messages": messages }));
            }
            println!("# {} (conversation {}, {} messages)", c.title, c.id, c.messages);
            if let Some(p) = &c.pair {
                println!("target {} · draft {} · drafter {}", p.target, p.draft.as_deref().unwrap_or("-"), p.drafter);
            }
            for m in messages {
                let status = if m.status == MessageStatus::Complete {
                    String::new()
                } else {
                    format!(" · {}", m.status.as_str())
                };
                println!("\n[{} {}{} · {}]", m.role.as_str(), m.id, status, format_short(m.created_at));
                println!("{}", m.text.trim_end());
                if let Some(s) = &m.stats {
                    println!("  ({})", stats_line(s));
                }
            }
            Ok(())
        }
        HistoryCommand::Search { text, db, limit, json } => {
            let hits = open(&db.db)?.search(&text.join(" "), limit)?;
            if json {
                return json_line(&hits);
            }
            if hits.is_empty() {
                eprintln!("no matches");
            }
            for h in hits {
                match h {
                    SearchHit::Message { conversation_id, message_id, title, snippet } => {
                        println!("conversation {conversation_id} · message {message_id} · {title}\n    {snippet}")
                    }
                    SearchHit::Document { document_id, title, snippet } => {
                        println!("document {document_id} · {title}\n    {snippet}")
                    }
                }
            }
            Ok(())
        }
        HistoryCommand::Export { id, db, format, document, output } => {
            let store = open(&db.db)?;
            let text = match (document, format) {
                (false, ExportFormat::Md) => store.export_conversation(id)?.to_markdown(),
                (false, ExportFormat::Json) => serde_json::to_string_pretty(&store.export_conversation(id)?)? + "\n",
                (true, ExportFormat::Md) => store.export_document(id)?.to_markdown(),
                (true, ExportFormat::Json) => serde_json::to_string_pretty(&store.export_document(id)?)? + "\n",
            };
            match output {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display())),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        HistoryCommand::Import { file, db } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            match open(&db.db)?.import_json(&text).with_context(|| format!("importing {}", file.display()))? {
                Imported::Conversation(id) => println!("imported conversation {id}"),
                Imported::Document(id) => println!("imported document {id}"),
            }
            Ok(())
        }
    }
}
