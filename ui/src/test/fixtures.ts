// Sample data shaped like the shell's answers.
import type { AppInfo, ModelEntry, PairEntry, Recommendation, Settings, Stats } from '../lib/api/types';

export const settingsFixture = (over: Partial<Settings> = {}): Settings => ({
  drafter: 'auto',
  draftLength: 'auto',
  temperature: 0,
  topP: 1,
  seed: null,
  systemPrompt: '',
  language: 'en',
  theme: 'light',
  keepRejected: false,
  targetDevice: 'cpu',
  draftDevice: 'cpu',
  hfToken: null,
  hfEndpoint: null,
  ...over,
});

export const infoFixture = (over: Partial<AppInfo> = {}): AppInfo => ({
  version: '0.1.0',
  kernels: 'avx2',
  backends: ['cpu'],
  firstRun: false,
  ...over,
});

export const modelFixture = (over: Partial<ModelEntry> = {}): ModelEntry => ({
  id: 'big',
  name: 'Big Model',
  description: 'A large model',
  architecture: 'qwen2',
  quantization: 'Q4_K_M',
  sizeBytes: 1_000_000_000,
  minRamBytes: 2_000_000_000,
  license: 'apache-2.0',
  gated: false,
  source: 'catalog',
  status: 'ready',
  downloadedBytes: 1_000_000_000,
  path: null,
  ...over,
});

export const pairFixture = (over: Partial<PairEntry> = {}): PairEntry => ({
  draft: 'small',
  target: 'big',
  isDefault: true,
  needsRamBytes: 1_500_000_000,
  needsDiskBytes: 0,
  ...over,
});

export const recommendationFixture = (over: Partial<Recommendation> = {}): Recommendation => ({
  pair: pairFixture({ needsDiskBytes: 1_400_000_000 }),
  reason: 'It fits in memory and is fast on this computer.',
  machine: { totalRamBytes: 16e9, availableRamBytes: 8e9, freeDiskBytes: 100e9, cores: 8 },
  others: [],
  ...over,
});

export const statsFixture = (over: Partial<Stats> = {}): Stats => ({
  generated: 10,
  drafted: 8,
  accepted: 6,
  acceptanceRate: 0.75,
  steps: 4,
  meanAccepted: 1.5,
  prefillMs: 20,
  decodeMs: 500,
  tokensPerSecond: 20,
  drafter: 'model',
  ...over,
});
