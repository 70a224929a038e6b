// Which start screen to show, decided from what the shell reports.
import type { AppInfo, LoadedPair, ModelEntry, PairEntry } from '../api/types';

export type StartDecision =
  | { kind: 'chat' }
  | { kind: 'load'; pair: PairEntry }
  | { kind: 'download' };

export function pairIsReady(pair: PairEntry, models: ModelEntry[]): boolean {
  const ready = (id: string) => models.some((m) => m.id === id && m.status === 'ready');
  return ready(pair.target) && ready(pair.draft);
}

/** The ready pair to offer: the default one if ready, else the first ready one. */
export function readyPair(pairs: PairEntry[], models: ModelEntry[]): PairEntry | null {
  const ready = pairs.filter((p) => pairIsReady(p, models));
  return ready.find((p) => p.isDefault) ?? ready[0] ?? null;
}

/**
 * With a pair already loaded (and not a first run) go straight to chat. Otherwise the first-run
 * screen: "Load and start" when a pair is downloaded, else the recommendation with Download.
 */
export function decideStart(
  info: AppInfo,
  models: ModelEntry[],
  pairs: PairEntry[],
  current: LoadedPair | null,
): StartDecision {
  if (current && !info.firstRun) return { kind: 'chat' };
  const pair = readyPair(pairs, models);
  if (current && !pair) return { kind: 'chat' };
  if (pair) return { kind: 'load', pair };
  return { kind: 'download' };
}

/** Models of a pair that still need downloading, target first. */
export function missingModels(pair: PairEntry, models: ModelEntry[]): string[] {
  return [pair.target, pair.draft].filter(
    (id) => !models.some((m) => m.id === id && m.status === 'ready'),
  );
}
