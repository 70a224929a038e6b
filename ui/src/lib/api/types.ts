// The IPC contract between the web UI and the desktop shell. The shell serialises with camelCase.

export type Lang = 'en' | 'zh';
export type DrafterChoice = 'auto' | 'model' | 'ngram' | 'off';
export type Theme = 'light' | 'dark' | 'system';

export type ErrorCode =
  | 'model_missing'
  | 'pair_incompatible'
  | 'out_of_memory'
  | 'download_failed'
  | 'needs_token'
  | 'not_found'
  | 'disk_full'
  | 'checksum_mismatch'
  | 'cancelled'
  | 'busy'
  | 'bad_file'
  | 'unsupported_model'
  | 'device_unavailable'
  | 'device_failed'
  | 'no_pair_loaded'
  | 'store'
  | 'invalid_input'
  | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'model_missing',
  'pair_incompatible',
  'out_of_memory',
  'download_failed',
  'needs_token',
  'not_found',
  'disk_full',
  'checksum_mismatch',
  'cancelled',
  'busy',
  'bad_file',
  'unsupported_model',
  'device_unavailable',
  'device_failed',
  'no_pair_loaded',
  'store',
  'invalid_input',
  'internal',
];

/** What every failed call rejects with. `message` is for people; `code` is what the UI acts on. */
export interface AppError {
  code: ErrorCode;
  message: string;
}

export interface Settings {
  drafter: DrafterChoice;
  /** 'auto' or 1..16 */
  draftLength: 'auto' | number;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  seed: number | null;
  systemPrompt: string;
  language: Lang;
  theme: Theme;
  /** keep struck guesses */
  keepRejected: boolean;
  /** device id from devicesList; 'auto' (the default) picks a GPU when the model fits */
  targetDevice: string;
  draftDevice: string;
  hfToken: string | null;
  hfEndpoint: string | null;
}

export interface AppInfo {
  version: string;
  /** e.g. "avx512-vnni" */
  kernels: string;
  backends: string[];
  firstRun: boolean;
}

export interface Device {
  id: string;
  name: string;
  /** 'auto' is not a device but the choice to let the app pick one */
  kind: 'auto' | 'cpu' | 'cuda' | 'metal';
  memoryBytes: number | null;
  freeBytes: number | null;
}

export type ModelSource = 'catalog' | 'imported' | 'found';
export type ModelStatus = 'ready' | 'not_downloaded' | 'partial' | 'downloading';

export interface ModelEntry {
  id: string;
  name: string;
  description: string;
  architecture: string;
  quantization: string;
  sizeBytes: number;
  minRamBytes: number;
  license: string;
  gated: boolean;
  /** found = discovered in the HF cache / LM Studio folder */
  source: ModelSource;
  /** partial = a paused/interrupted download */
  status: ModelStatus;
  downloadedBytes: number;
  path: string | null;
}

export interface PairEntry {
  draft: string;
  target: string;
  isDefault: boolean;
  needsRamBytes: number;
  /** still to download */
  needsDiskBytes: number;
}

export type PairVerdict = 'fits' | 'too_big' | 'too_slow' | 'no_disk';

export interface Recommendation {
  pair: PairEntry | null;
  /** plain words */
  reason: string;
  machine: {
    totalRamBytes: number;
    availableRamBytes: number;
    freeDiskBytes: number;
    cores: number;
  };
  /** every catalog pair judged against this machine (the recommended one included) */
  others: (PairEntry & { verdict: PairVerdict; reason: string })[];
}

export type DownloadEvent =
  | { type: 'started'; id: string; totalBytes: number; resumedFromBytes: number }
  | {
      type: 'progress';
      id: string;
      doneBytes: number;
      totalBytes: number;
      bytesPerSecond: number;
      etaSeconds: number | null;
    }
  | { type: 'retrying'; id: string; attempt: number; waitSeconds: number; reason: string }
  | { type: 'verifying'; id: string; doneBytes: number; totalBytes: number }
  | { type: 'done'; id: string; path: string }
  | { type: 'paused'; id: string; doneBytes: number; totalBytes: number };

export interface PairReport {
  compatible: boolean;
  /** plain words, why not, or notes */
  reasons: string[];
}

export type LoadEvent =
  | { type: 'loading'; which: 'target' | 'draft'; fraction: number }
  | { type: 'ready' };

export interface LoadedPair {
  target: string;
  draft: string | null;
  drafter: DrafterChoice;
  memoryBytes: number;
  /** where each model runs: 'cpu', 'cuda:0', 'metal:0' */
  targetDevice: string;
  draftDevice: string | null;
  /** why the automatic choice kept a model off the GPU (plain words), if it did */
  deviceNote: string | null;
}

export interface Stats {
  generated: number;
  drafted: number;
  accepted: number;
  acceptanceRate: number;
  steps: number;
  meanAccepted: number;
  prefillMs: number;
  decodeMs: number;
  tokensPerSecond: number;
  drafter: string;
}

export type StopReason = 'eos' | 'max_tokens' | 'stop_string' | 'cancelled' | 'context_full';

export type StepDrafter = 'model' | 'ngram' | null;

/**
 * One verification step, already turned into text by the shell. `accepted` are the draft tokens the
 * target agreed with, `correction` is the target's own token after them ('' for an end token),
 * `rejected` are the draft guesses it threw away. Visible text grows by accepted.join('') + correction.
 */
export type GenEvent =
  | { type: 'prefill'; promptTokens: number; ms: number }
  | {
      type: 'step';
      accepted: string[];
      correction: string;
      rejected: string[];
      drafter: StepDrafter;
      draftMs: number;
      verifyMs: number;
    }
  | { type: 'done'; stats: Stats; reason: StopReason; messageId: number | null };

export type StepEvent = Extract<GenEvent, { type: 'step' }>;

export interface Conversation {
  id: number;
  title: string;
  createdAt: number;
  updatedAt: number;
}

export type MessageRole = 'system' | 'user' | 'assistant';
export type MessageStatus = 'streaming' | 'complete' | 'cancelled' | 'interrupted';

export interface Message {
  id: number;
  conversationId: number;
  role: MessageRole;
  text: string;
  status: MessageStatus;
  stats: Stats | null;
  pair: { target: string; draft: string | null; drafter: string } | null;
  createdAt: number;
}

export interface TraceStep {
  accepted: string[];
  correction: string;
  rejected: string[];
  drafter: StepDrafter;
  draftMs: number;
  verifyMs: number;
}

export type SearchHit =
  | { kind: 'message'; conversationId: number; messageId: number; snippet: string }
  | { kind: 'document'; documentId: number; snippet: string };

export interface Document {
  id: number;
  title: string;
  body: string;
  updatedAt: number;
}

export interface DocumentRevision {
  /** 1 for the first saved state, counting up */
  revision: number;
  title: string;
  body: string;
  createdAt: number;
}

export type DocInstruction = 'continue' | 'rewrite' | 'grammar' | 'summarise';

export interface RaceResult {
  plain: Stats;
  speculative: Stats;
  identical: boolean;
}
