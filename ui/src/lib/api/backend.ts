// Every call to the desktop shell goes through this file; components never call `invoke` directly.
import { invoke, Channel } from '@tauri-apps/api/core';
import { open } from '@tauri-apps/plugin-dialog';
import { toAppError } from './errors';
import type {
  AppInfo,
  Conversation,
  Device,
  DocInstruction,
  Document,
  DocumentRevision,
  DownloadEvent,
  GenEvent,
  LoadEvent,
  LoadedPair,
  Message,
  ModelEntry,
  PairEntry,
  PairReport,
  RaceResult,
  Recommendation,
  SearchHit,
  Settings,
  TraceStep,
} from './types';

async function call<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(name, args ?? {});
  } catch (e) {
    throw toAppError(e);
  }
}

function channel<T>(handler: (event: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = handler;
  return ch;
}

export type Handler<T> = (event: T) => void;

// App and settings
export const appInfo = () => call<AppInfo>('app_info');
export const devicesList = () => call<Device[]>('devices_list');
export const settingsGet = () => call<Settings>('settings_get');
export const settingsSet = (settings: Settings) => call<Settings>('settings_set', { settings });

// Models and pairs
export const modelsList = () => call<ModelEntry[]>('models_list');
export const pairsList = () => call<PairEntry[]>('pairs_list');
export const modelsRecommend = () => call<Recommendation>('models_recommend');
export const modelDownload = (id: string, onEvent: Handler<DownloadEvent>) =>
  call<{ path: string }>('model_download', { id, onEvent: channel(onEvent) });
export const modelDownloadPause = (id: string) => call<null>('model_download_pause', { id });
export const modelDownloadCancel = (id: string) => call<null>('model_download_cancel', { id });
export const modelImport = (path: string) => call<ModelEntry>('model_import', { path });
export const modelRemove = (id: string) => call<null>('model_remove', { id });
export const pairCheck = (draft: string, target: string) =>
  call<PairReport>('pair_check', { draft, target });
export const pairLoad = (target: string, draft: string | null, onEvent: Handler<LoadEvent>) =>
  call<LoadedPair>('pair_load', { target, draft, onEvent: channel(onEvent) });
export const pairUnload = () => call<null>('pair_unload');
export const pairCurrent = () => call<LoadedPair | null>('pair_current');

/** Ask for a GGUF file with the system file dialog; null when the person closes it. */
export async function pickGgufFile(): Promise<string | null> {
  try {
    const picked = await open({
      multiple: false,
      directory: false,
      filters: [{ name: 'GGUF', extensions: ['gguf'] }],
    });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw toAppError(e);
  }
}

// Conversations
export const conversationsList = () => call<Conversation[]>('conversations_list');
export const conversationCreate = (title: string) =>
  call<Conversation>('conversation_create', { title });
export const conversationRename = (id: number, title: string) =>
  call<null>('conversation_rename', { id, title });
export const conversationDelete = (id: number) => call<null>('conversation_delete', { id });
export const conversationMessages = (id: number) =>
  call<Message[]>('conversation_messages', { id });
export const search = (text: string) => call<SearchHit[]>('search', { text });

// Generation
export const chatSend = (conversationId: number, text: string, onEvent: Handler<GenEvent>) =>
  call<Message>('chat_send', { conversationId, text, onEvent: channel(onEvent) });
export const chatRegenerate = (conversationId: number, onEvent: Handler<GenEvent>) =>
  call<Message>('chat_regenerate', { conversationId, onEvent: channel(onEvent) });
export const chatEditResend = (messageId: number, text: string, onEvent: Handler<GenEvent>) =>
  call<Message>('chat_edit_resend', { messageId, text, onEvent: channel(onEvent) });
export const generationStop = () => call<null>('generation_stop');
export const messageTrace = (messageId: number) =>
  call<TraceStep[]>('message_trace', { messageId });
export const raceRun = (prompt: string, onPlain: Handler<GenEvent>, onSpeculative: Handler<GenEvent>) =>
  call<RaceResult>('race_run', {
    prompt,
    onPlain: channel(onPlain),
    onSpeculative: channel(onSpeculative),
  });

// Documents
export const documentsList = () => call<Document[]>('documents_list');
export const documentGet = (id: number) => call<Document>('document_get', { id });
export const documentSave = (id: number | null, title: string, body: string) =>
  call<Document>('document_save', { id, title, body });
export const documentDelete = (id: number) => call<null>('document_delete', { id });
export const documentRevisions = (id: number) =>
  call<DocumentRevision[]>('document_revisions', { id });
export const documentInstruct = (
  id: number,
  instruction: DocInstruction,
  selectionStart: number | null,
  selectionEnd: number | null,
  onEvent: Handler<GenEvent>,
) =>
  call<Document>('document_instruct', {
    id,
    instruction,
    selectionStart,
    selectionEnd,
    onEvent: channel(onEvent),
  });
export const documentExportMarkdown = (id: number) =>
  call<string>('document_export_markdown', { id });
