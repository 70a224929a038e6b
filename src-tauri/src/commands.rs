//! The commands the UI invokes. Each one parses its arguments, calls `tandem_session::App`
//! on a blocking thread (models and the database block), and maps a failure to the
//! `{code, message}` the UI acts on. Streams go over one `Channel` per call.

use std::path::PathBuf;
use std::sync::Arc;

use tandem_models::download::DownloadEvent;
use tandem_models::library::{LibraryEntry, Locations};
use tandem_models::recommend::{PairPlan, Recommendation};
use tandem_session::views::{ConversationView, DocumentView, MessageView, RevisionView, SearchHitView};
use tandem_session::{
    App, AppInfo, Device, GenEvent, Instruction, IpcError, LoadEvent, LoadedPairView, PairCheck, RaceResult, Settings,
    StepText,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

type Shared = Arc<App>;
type Reply<T> = Result<T, IpcError>;

/// Opens the history database in the app's data folder (`TANDEM_DATA_DIR` overrides it,
/// for tests and portable installs).
pub fn open_app(handle: &AppHandle) -> Result<Shared, Box<dyn std::error::Error>> {
    let dir = match std::env::var_os("TANDEM_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => handle.path().app_data_dir()?,
    };
    std::fs::create_dir_all(&dir)?;
    let app = App::open(&dir.join("history.sqlite"), Locations::from_env()?)?;
    Ok(Arc::new(app))
}

/// Runs `f` on the blocking pool with the app.
async fn run<T: Send + 'static>(
    state: State<'_, Shared>,
    f: impl FnOnce(&App) -> tandem_session::Result<T> + Send + 'static,
) -> Reply<T> {
    let app = state.inner().clone();
    tauri::async_runtime::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| IpcError { code: "internal".into(), message: format!("the command stopped unexpectedly: {e}") })?
        .map_err(IpcError::from)
}

/// Sends `event` to the UI; a UI that went away must not stop the work.
fn send<T: serde::Serialize + Clone>(channel: &Channel<T>) -> impl FnMut(T) + '_ {
    move |event| {
        let _ = channel.send(event);
    }
}

#[tauri::command]
async fn app_info(state: State<'_, Shared>) -> Reply<AppInfo> {
    run(state, |app| Ok(app.info())).await
}

#[tauri::command]
async fn devices_list(state: State<'_, Shared>) -> Reply<Vec<Device>> {
    run(state, |app| Ok(app.devices())).await
}

#[tauri::command]
async fn settings_get(state: State<'_, Shared>) -> Reply<Settings> {
    run(state, |app| Ok(app.settings())).await
}

#[tauri::command]
async fn settings_set(state: State<'_, Shared>, settings: Settings) -> Reply<Settings> {
    run(state, move |app| app.set_settings(settings)).await
}

#[tauri::command]
async fn models_list(state: State<'_, Shared>) -> Reply<Vec<LibraryEntry>> {
    run(state, |app| app.models()).await
}

#[tauri::command]
async fn pairs_list(state: State<'_, Shared>) -> Reply<Vec<PairPlan>> {
    run(state, |app| Ok(app.recommend()?.others)).await
}

#[tauri::command]
async fn models_recommend(state: State<'_, Shared>) -> Reply<Recommendation> {
    run(state, |app| app.recommend()).await
}

/// Where a finished download lies.
#[derive(serde::Serialize)]
struct Downloaded {
    path: String,
}

#[tauri::command]
async fn model_download(state: State<'_, Shared>, id: String, on_event: Channel<DownloadEvent>) -> Reply<Downloaded> {
    run(state, move |app| Ok(Downloaded { path: app.download(&id, &mut send(&on_event))? })).await
}

#[tauri::command]
async fn model_download_pause(state: State<'_, Shared>, id: String) -> Reply<()> {
    run(state, move |app| app.pause_download(&id)).await
}

#[tauri::command]
async fn model_download_cancel(state: State<'_, Shared>, id: String) -> Reply<()> {
    run(state, move |app| app.cancel_download(&id)).await
}

#[tauri::command]
async fn model_import(state: State<'_, Shared>, path: PathBuf) -> Reply<LibraryEntry> {
    run(state, move |app| app.import_model(&path)).await
}

#[tauri::command]
async fn model_remove(state: State<'_, Shared>, id: String) -> Reply<u64> {
    run(state, move |app| app.remove_model(&id)).await
}

#[tauri::command]
async fn pair_check(state: State<'_, Shared>, draft: String, target: String) -> Reply<PairCheck> {
    run(state, move |app| app.check_pair(&draft, &target)).await
}

#[tauri::command]
async fn pair_load(
    state: State<'_, Shared>,
    target: String,
    draft: Option<String>,
    on_event: Channel<LoadEvent>,
) -> Reply<LoadedPairView> {
    run(state, move |app| app.load_pair(&target, draft.as_deref(), &mut send(&on_event))).await
}

#[tauri::command]
async fn pair_unload(state: State<'_, Shared>) -> Reply<()> {
    run(state, |app| app.unload_pair()).await
}

#[tauri::command]
async fn pair_current(state: State<'_, Shared>) -> Reply<Option<LoadedPairView>> {
    run(state, |app| Ok(app.current_pair())).await
}

#[tauri::command]
async fn pair_last(state: State<'_, Shared>) -> Reply<Option<(String, Option<String>)>> {
    run(state, |app| app.last_pair()).await
}

#[tauri::command]
async fn conversations_list(state: State<'_, Shared>) -> Reply<Vec<ConversationView>> {
    run(state, |app| app.conversations()).await
}

#[tauri::command]
async fn conversation_create(state: State<'_, Shared>, title: String) -> Reply<ConversationView> {
    run(state, move |app| app.create_conversation(&title)).await
}

#[tauri::command]
async fn conversation_rename(state: State<'_, Shared>, id: i64, title: String) -> Reply<()> {
    run(state, move |app| app.rename_conversation(id, &title)).await
}

#[tauri::command]
async fn conversation_delete(state: State<'_, Shared>, id: i64) -> Reply<()> {
    run(state, move |app| app.delete_conversation(id)).await
}

#[tauri::command]
async fn conversation_messages(state: State<'_, Shared>, id: i64) -> Reply<Vec<MessageView>> {
    run(state, move |app| app.messages(id)).await
}

#[tauri::command]
async fn search(state: State<'_, Shared>, text: String) -> Reply<Vec<SearchHitView>> {
    run(state, move |app| app.search(&text)).await
}

#[tauri::command]
async fn chat_send(
    state: State<'_, Shared>,
    conversation_id: i64,
    text: String,
    on_event: Channel<GenEvent>,
) -> Reply<MessageView> {
    run(state, move |app| app.chat_send(conversation_id, &text, &mut send(&on_event))).await
}

#[tauri::command]
async fn chat_regenerate(
    state: State<'_, Shared>,
    conversation_id: i64,
    on_event: Channel<GenEvent>,
) -> Reply<MessageView> {
    run(state, move |app| app.chat_regenerate(conversation_id, &mut send(&on_event))).await
}

#[tauri::command]
async fn chat_edit_resend(
    state: State<'_, Shared>,
    message_id: i64,
    text: String,
    on_event: Channel<GenEvent>,
) -> Reply<MessageView> {
    run(state, move |app| app.chat_edit_resend(message_id, &text, &mut send(&on_event))).await
}

#[tauri::command]
async fn generation_stop(state: State<'_, Shared>) -> Reply<()> {
    run(state, |app| {
        app.stop();
        Ok(())
    })
    .await
}

#[tauri::command]
async fn message_trace(state: State<'_, Shared>, message_id: i64) -> Reply<Vec<StepText>> {
    run(state, move |app| app.message_trace(message_id)).await
}

#[tauri::command]
async fn race_run(
    state: State<'_, Shared>,
    prompt: String,
    on_plain: Channel<GenEvent>,
    on_speculative: Channel<GenEvent>,
) -> Reply<RaceResult> {
    run(state, move |app| app.race(&prompt, &mut send(&on_plain), &mut send(&on_speculative))).await
}

#[tauri::command]
async fn documents_list(state: State<'_, Shared>) -> Reply<Vec<DocumentView>> {
    run(state, |app| app.documents()).await
}

#[tauri::command]
async fn document_get(state: State<'_, Shared>, id: i64) -> Reply<DocumentView> {
    run(state, move |app| app.document(id)).await
}

#[tauri::command]
async fn document_save(state: State<'_, Shared>, id: Option<i64>, title: String, body: String) -> Reply<DocumentView> {
    run(state, move |app| app.save_document(id, &title, &body)).await
}

#[tauri::command]
async fn document_delete(state: State<'_, Shared>, id: i64) -> Reply<()> {
    run(state, move |app| app.delete_document(id)).await
}

#[tauri::command]
async fn document_revisions(state: State<'_, Shared>, id: i64) -> Reply<Vec<RevisionView>> {
    run(state, move |app| app.document_revisions(id)).await
}

#[tauri::command]
async fn document_instruct(
    state: State<'_, Shared>,
    id: i64,
    instruction: Instruction,
    selection_start: Option<usize>,
    selection_end: Option<usize>,
    on_event: Channel<GenEvent>,
) -> Reply<DocumentView> {
    let selection = selection_start.zip(selection_end);
    run(state, move |app| app.document_instruct(id, instruction, selection, &mut send(&on_event))).await
}

#[tauri::command]
async fn document_export_markdown(state: State<'_, Shared>, id: i64) -> Reply<String> {
    run(state, move |app| app.export_document_markdown(id)).await
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        devices_list,
        settings_get,
        settings_set,
        models_list,
        pairs_list,
        models_recommend,
        model_download,
        model_download_pause,
        model_download_cancel,
        model_import,
        model_remove,
        pair_check,
        pair_load,
        pair_unload,
        pair_current,
        pair_last,
        conversations_list,
        conversation_create,
        conversation_rename,
        conversation_delete,
        conversation_messages,
        search,
        chat_send,
        chat_regenerate,
        chat_edit_resend,
        generation_stop,
        message_trace,
        race_run,
        documents_list,
        document_get,
        document_save,
        document_delete,
        document_revisions,
        document_instruct,
        document_export_markdown,
    ]
}
