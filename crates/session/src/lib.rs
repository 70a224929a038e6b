//! A loaded pair and what people do with it, for the desktop app and the CLI: one engine
//! worker owns the pair; chat turns and document edits stream as text-level events and are
//! kept in the history with their speculation traces; races run plain and speculative
//! decoding side by side. No Tauri, no UI.

mod app;
mod documents;
mod downloads;
pub mod error;
mod race;
pub mod runtime;
pub mod settings;
pub mod text;
pub mod views;

pub use app::{App, AppInfo, LoadEvent, LoadedPairView};
pub use documents::Instruction;
pub use downloads::{Device, PairCheck};
pub use error::{IpcError, Result, SessionError};
pub use race::RaceResult;
pub use runtime::{DrafterChoice, PairConfig, Runtime, Sampling};
pub use settings::Settings;
pub use text::{GenEvent, StatsView, StepText, TextStepper};
