//! The desktop app's state and every action the UI can ask for. One engine worker owns the
//! loaded pair: an answer holds it for its whole length, and a second request meanwhile is
//! refused with `busy` (the UI offers Stop). Everything people write and every answer, with
//! its speculation trace, goes into the history database as it happens.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use serde::Serialize;
use tandem_engine::{Event, StepEvent};
use tandem_models::library::{Library, LibraryEntry, Locations};
use tandem_models::{Catalog, ChatMessage, Tokenizer};
use tandem_store::{Pair, Role, Store, TraceWriter};

use crate::error::{Result, SessionError};
use crate::runtime::{DrafterChoice, PairConfig, Runtime, Sampling};
use crate::settings::Settings;
use crate::text::{GenEvent, StepText, TextStepper};
use crate::views::{ConversationView, MessageView, SearchHitView};

/// What the UI shows about the app and this build.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub kernels: String,
    pub backends: Vec<String>,
    /// Nothing has been set up yet: the UI opens the first-run screen.
    pub first_run: bool,
}

/// The pair that answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadedPairView {
    pub target: String,
    pub draft: Option<String>,
    pub drafter: DrafterChoice,
    /// Size of the mapped weights.
    pub memory_bytes: u64,
    /// Where the target runs (`cpu`, `cuda:0`, `metal:0`).
    pub target_device: String,
    pub draft_device: Option<String>,
    /// Why the automatic choice left a model on the processor, in plain words.
    pub device_note: Option<String>,
}

/// Loading progress for the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoadEvent {
    Loading { which: &'static str, fraction: f64 },
    Ready,
}

pub(crate) struct Loaded {
    pub runtime: Runtime,
    pub view: LoadedPairView,
}

pub struct App {
    pub(crate) store: Store,
    pub(crate) locations: Locations,
    engine: Mutex<Option<Loaded>>,
    loaded: Mutex<Option<LoadedPairView>>,
    cancel: AtomicBool,
    settings: Mutex<Settings>,
    first_run: AtomicBool,
    /// Tokenizers of targets that wrote stored answers, for replaying their traces.
    tokenizers: Mutex<HashMap<String, Arc<Tokenizer>>>,
    pub(crate) downloads: crate::downloads::Downloads,
}

impl App {
    /// Opens (or creates) the history database at `db`; models are looked for where
    /// `locations` says.
    pub fn open(db: &Path, locations: Locations) -> Result<App> {
        let store = Store::open(db)?;
        let saved = Settings::load(&store)?;
        Ok(App {
            first_run: AtomicBool::new(saved.is_none()),
            settings: Mutex::new(saved.unwrap_or_default()),
            store,
            locations,
            engine: Mutex::new(None),
            loaded: Mutex::new(None),
            cancel: AtomicBool::new(false),
            tokenizers: Mutex::new(HashMap::new()),
            downloads: Default::default(),
        })
    }

    pub fn library(&self) -> Result<Library<'static>> {
        Ok(Library::open(self.locations.clone(), Catalog::builtin())?)
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            kernels: tandem_models::kernels_level().to_string(),
            backends: tandem_models::device::backends()
                .into_iter()
                .filter(|b| b.built)
                .map(|b| b.name.to_string())
                .collect(),
            first_run: self.first_run.load(Ordering::SeqCst),
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Checks and saves `settings`. Drafter and draft-length changes apply from the next
    /// time a pair is loaded.
    pub fn set_settings(&self, settings: Settings) -> Result<Settings> {
        settings.validate()?;
        settings.save(&self.store)?;
        self.first_run.store(false, Ordering::SeqCst);
        *lock(&self.settings) = settings.clone();
        Ok(settings)
    }

    /// Loads `target` (and `draft`), replacing the pair in use. Refused while answering.
    pub fn load_pair(
        &self,
        target: &str,
        draft: Option<&str>,
        on_event: &mut dyn FnMut(LoadEvent),
    ) -> Result<LoadedPairView> {
        let mut engine = self.engine.try_lock().map_err(|_| SessionError::Busy)?;
        let settings = self.settings();
        let library = self.library()?;
        let mut memory = 0;
        for spec in std::iter::once(target).chain(draft) {
            memory += std::fs::metadata(library.resolve(spec)?).map_err(tandem_models::ModelsError::from)?.len();
        }
        on_event(LoadEvent::Loading { which: "target", fraction: 0.0 });
        // Free the old pair first: two pairs at once may not fit.
        *engine = None;
        *lock(&self.loaded) = None;
        let config = PairConfig {
            target: resolve_spec(&library, target)?,
            draft: draft.map(|d| resolve_spec(&library, d)).transpose()?,
            drafter: match (settings.drafter, draft) {
                (DrafterChoice::Model | DrafterChoice::Hybrid, None) => DrafterChoice::Ngram,
                (choice, _) => choice,
            },
            draft_max: settings.draft_length,
            draft_limit: 8,
            target_device: settings.target_device.clone(),
            draft_device: settings.draft_device.clone(),
        };
        let runtime = Runtime::load(&config)?;
        let view = LoadedPairView {
            target: target.to_string(),
            draft: draft.map(str::to_string),
            drafter: config.drafter,
            memory_bytes: memory,
            target_device: runtime.placement().target.id(),
            draft_device: runtime.placement().draft.map(|d| d.id()),
            device_note: runtime.placement().note.clone(),
        };
        self.store.set_setting("app.pair", &serde_json::json!({"target": target, "draft": draft}))?;
        self.first_run.store(false, Ordering::SeqCst);
        *lock(&self.loaded) = Some(view.clone());
        *engine = Some(Loaded { runtime, view: view.clone() });
        on_event(LoadEvent::Ready);
        Ok(view)
    }

    /// The pair loaded last time, to offer loading it again.
    pub fn last_pair(&self) -> Result<Option<(String, Option<String>)>> {
        let Some(v) = self.store.setting("app.pair")? else { return Ok(None) };
        let target = v["target"].as_str().map(str::to_string);
        Ok(target.map(|t| (t, v["draft"].as_str().map(str::to_string))))
    }

    pub fn unload_pair(&self) -> Result<()> {
        let mut engine = self.engine.try_lock().map_err(|_| SessionError::Busy)?;
        *engine = None;
        *lock(&self.loaded) = None;
        Ok(())
    }

    pub fn current_pair(&self) -> Option<LoadedPairView> {
        lock(&self.loaded).clone()
    }

    /// Ends the answer being written at its next step; its text so far is kept.
    pub fn stop(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// The engine, for one answer: `busy` while another holds it.
    pub(crate) fn engine(&self) -> Result<MutexGuard<'_, Option<Loaded>>> {
        let guard = match self.engine.try_lock() {
            Ok(g) => g,
            Err(TryLockError::WouldBlock) => return Err(SessionError::Busy),
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
        };
        if guard.is_none() {
            return Err(SessionError::NoPairLoaded);
        }
        self.cancel.store(false, Ordering::SeqCst);
        Ok(guard)
    }

    /// Runs one answer from `prompt`, streaming text events and (with `writer`) recording
    /// every step; returns the final `Done` with `message_id` filled in.
    pub(crate) fn answer(
        &self,
        loaded: &mut Loaded,
        prompt: &[u32],
        sampling: &Sampling,
        speculate: bool,
        mut writer: Option<&mut TraceWriter>,
        on_event: &mut dyn FnMut(GenEvent),
    ) -> Result<(String, GenEvent)> {
        let tokenizer = loaded.runtime.tokenizer.clone();
        let mut stepper = TextStepper::new(&tokenizer);
        let mut text = String::new();
        let mut done = None;
        let message_id = writer.as_ref().map(|w| w.message_id());
        let mut store_error = None;
        let result = loaded.runtime.generate(prompt, sampling, speculate, &self.cancel, &mut |e: &Event| {
            if let Some(w) = writer.as_deref_mut() {
                if let Err(err) = w.on_event(e) {
                    store_error.get_or_insert(err);
                }
            }
            let mut ui = stepper.event(e);
            match &mut ui {
                GenEvent::Step(s) => {
                    text.extend(s.accepted.iter().map(String::as_str));
                    text.push_str(&s.correction);
                }
                GenEvent::Done { message_id: id, .. } => {
                    let rest = stepper.finish();
                    if !rest.is_empty() {
                        text.push_str(&rest);
                        on_event(GenEvent::Step(StepText { correction: rest, ..Default::default() }));
                    }
                    *id = message_id;
                    done = Some(ui.clone());
                }
                GenEvent::Prefill { .. } => {}
            }
            on_event(ui);
        });
        if let Some(w) = writer {
            w.flush()?;
        }
        result?;
        if let Some(e) = store_error {
            return Err(e.into());
        }
        Ok((text, done.expect("generation ends with Done")))
    }

    /// A stored answer's speculation trace, step by step in text.
    pub fn message_trace(&self, message_id: i64) -> Result<Vec<StepText>> {
        let message = self.store.message(message_id)?;
        let conversation = self.store.conversation(message.conversation_id)?;
        let target = conversation
            .pair
            .map(|p| p.target)
            .ok_or_else(|| SessionError::invalid("this message has no recorded model, so its trace cannot be shown"))?;
        let tokenizer = self.tokenizer_for(&target)?;
        let mut stepper = TextStepper::new(&tokenizer);
        let steps = self.store.trace(message_id)?;
        Ok(steps
            .iter()
            .map(|s| {
                stepper.step(&StepEvent {
                    drafted: s.drafted.clone(),
                    accepted: s.accepted as usize,
                    token: s.token,
                    drafter: s.drafter,
                    draft_ms: s.draft_ms as f64,
                    verify_ms: s.verify_ms as f64,
                    committed: s.committed_tokens(),
                })
            })
            .collect())
    }

    fn tokenizer_for(&self, target: &str) -> Result<Arc<Tokenizer>> {
        if let Some(loaded) = self
            .engine
            .try_lock()
            .ok()
            .and_then(|e| e.as_ref().filter(|l| l.view.target == target).map(|l| l.runtime.tokenizer.clone()))
        {
            return Ok(loaded);
        }
        let mut cache = lock(&self.tokenizers);
        if let Some(t) = cache.get(target) {
            return Ok(t.clone());
        }
        let path = self.library()?.resolve(target)?;
        let t = Arc::new(Tokenizer::from_path(&path)?);
        cache.insert(target.to_string(), t.clone());
        Ok(t)
    }

    // ----- conversations -------------------------------------------------------------

    pub fn conversations(&self) -> Result<Vec<ConversationView>> {
        Ok(self.store.list_conversations()?.iter().map(ConversationView::from).collect())
    }

    pub fn create_conversation(&self, title: &str) -> Result<ConversationView> {
        let id = self.store.create_conversation(title_or_default(title))?;
        Ok(ConversationView::from(&self.store.conversation(id)?))
    }

    pub fn rename_conversation(&self, id: i64, title: &str) -> Result<()> {
        Ok(self.store.rename_conversation(id, title_or_default(title))?)
    }

    pub fn delete_conversation(&self, id: i64) -> Result<()> {
        Ok(self.store.delete_conversation(id)?)
    }

    pub fn messages(&self, conversation_id: i64) -> Result<Vec<MessageView>> {
        Ok(self.store.messages(conversation_id)?.iter().map(MessageView::from).collect())
    }

    pub fn search(&self, text: &str) -> Result<Vec<SearchHitView>> {
        Ok(self.store.search(text, 50)?.iter().map(SearchHitView::from).collect())
    }

    /// Sends `text` in the conversation and answers it.
    pub fn chat_send(
        &self,
        conversation_id: i64,
        text: &str,
        on_event: &mut dyn FnMut(GenEvent),
    ) -> Result<MessageView> {
        not_empty(text)?;
        let mut engine = self.engine()?;
        self.store.conversation(conversation_id)?;
        self.store.add_message(conversation_id, Role::User, text)?;
        self.answer_conversation(engine.as_mut().expect("checked by engine()"), conversation_id, on_event)
    }

    /// Answers the last user message again, replacing the answer after it.
    pub fn chat_regenerate(&self, conversation_id: i64, on_event: &mut dyn FnMut(GenEvent)) -> Result<MessageView> {
        let mut engine = self.engine()?;
        let messages = self.store.messages(conversation_id)?;
        let last_user = messages
            .iter()
            .rposition(|m| m.role == Role::User)
            .ok_or_else(|| SessionError::invalid("there is no message to answer again"))?;
        if let Some(next) = messages.get(last_user + 1) {
            self.store.delete_messages_from(conversation_id, next.id)?;
        }
        self.answer_conversation(engine.as_mut().expect("checked by engine()"), conversation_id, on_event)
    }

    /// Replaces user message `message_id` with `text`, drops what followed, and answers.
    pub fn chat_edit_resend(
        &self,
        message_id: i64,
        text: &str,
        on_event: &mut dyn FnMut(GenEvent),
    ) -> Result<MessageView> {
        not_empty(text)?;
        let mut engine = self.engine()?;
        let message = self.store.message(message_id)?;
        if message.role != Role::User {
            return Err(SessionError::invalid("only your own messages can be edited"));
        }
        self.store.delete_messages_from(message.conversation_id, message_id)?;
        self.store.add_message(message.conversation_id, Role::User, text)?;
        self.answer_conversation(engine.as_mut().expect("checked by engine()"), message.conversation_id, on_event)
    }

    fn answer_conversation(
        &self,
        loaded: &mut Loaded,
        conversation_id: i64,
        on_event: &mut dyn FnMut(GenEvent),
    ) -> Result<MessageView> {
        let settings = self.settings();
        let mut chat = Vec::new();
        if !settings.system_prompt.trim().is_empty() {
            chat.push(ChatMessage::system(settings.system_prompt.clone()));
        }
        // Partial answers of stopped or interrupted turns stay part of the chat, as shown.
        chat.extend(
            self.store
                .messages(conversation_id)?
                .into_iter()
                .filter(|m| !m.text.is_empty())
                .map(|m| ChatMessage::new(m.role.as_str(), m.text)),
        );
        let prompt = loaded.runtime.chat_prompt(&chat)?;
        let pair = Pair {
            target: loaded.view.target.clone(),
            draft: loaded.view.draft.clone(),
            drafter: loaded.runtime.drafter_name().to_string(),
        };
        self.store.set_conversation_pair(
            conversation_id,
            &pair,
            &serde_json::to_value(settings.sampling()).unwrap(),
        )?;
        let tokenizer = loaded.runtime.tokenizer.clone();
        let mut writer = self.store.begin_answer(conversation_id, move |ids| tokenizer.decode(ids))?;
        let speculate = loaded.runtime.drafter_name() != "none";
        match self.answer(loaded, &prompt, &settings.sampling(), speculate, Some(&mut writer), on_event) {
            Ok(_) => Ok(MessageView::from(&self.store.message(writer.message_id())?)),
            Err(e) => {
                // The partial answer stays, marked interrupted.
                let _ = writer.interrupt();
                Err(e)
            }
        }
    }

    /// Every model the library knows, with downloads in progress marked.
    pub fn models(&self) -> Result<Vec<LibraryEntry>> {
        let mut entries = self.library()?.entries();
        self.downloads.mark(&mut entries);
        Ok(entries)
    }
}

/// A catalog/imported/found id or a path, as `Runtime::load` takes it.
fn resolve_spec(library: &Library, spec: &str) -> Result<String> {
    Ok(library.resolve(spec)?.to_string_lossy().into_owned())
}

fn not_empty(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(SessionError::invalid("the message is empty"));
    }
    Ok(())
}

fn title_or_default(title: &str) -> &str {
    let t = title.trim();
    if t.is_empty() {
        "New chat"
    } else {
        t
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    /// Stops any answer and waits (up to `limit`) until it has been saved: what closing
    /// the window does, so the partial answer is kept as `cancelled`.
    pub fn shutdown(&self, limit: std::time::Duration) {
        self.stop();
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if let Ok(mut engine) = self.engine.try_lock() {
                *engine = None;
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
