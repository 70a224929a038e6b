// Plain vs speculative on the same prompt, each pane with its own clock.
import * as api from '../api/backend';
import { toAppError } from '../api/errors';
import type { AppError, GenEvent, RaceResult } from '../api/types';
import { emptyStream, reduceStream, type StreamState } from '../logic/stream';
import { now } from './clock';

export interface Pane {
  stream: StreamState;
  /** clock time of the pane's first event */
  startedAt: number | null;
  /** clock time of its done event */
  endedAt: number | null;
}

function emptyPane(): Pane {
  return { stream: emptyStream(), startedAt: null, endedAt: null };
}

export function reducePane(pane: Pane, ev: GenEvent, at: number): Pane {
  return {
    stream: reduceStream(pane.stream, ev, { now: at, keepRejected: false }),
    startedAt: pane.startedAt ?? at,
    endedAt: ev.type === 'done' ? at : pane.endedAt,
  };
}

/** Elapsed ms on a pane's clock at time `at` (stops at its done event). */
export function paneElapsed(pane: Pane, at: number): number {
  if (pane.startedAt === null) return 0;
  return Math.max(0, (pane.endedAt ?? at) - pane.startedAt);
}

class RaceStore {
  // Raw: panes are replaced per event by reducePane, never changed in place.
  plain = $state.raw<Pane>(emptyPane());
  speculative = $state.raw<Pane>(emptyPane());
  running = $state(false);
  result = $state<RaceResult | null>(null);
  error = $state<AppError | null>(null);

  async run(prompt: string): Promise<void> {
    const text = prompt.trim();
    if (!text || this.running) return;
    this.plain = emptyPane();
    this.speculative = emptyPane();
    this.result = null;
    this.error = null;
    this.running = true;
    try {
      this.result = await api.raceRun(
        text,
        (ev) => (this.plain = reducePane(this.plain, ev, now())),
        (ev) => (this.speculative = reducePane(this.speculative, ev, now())),
      );
    } catch (e) {
      const err = toAppError(e);
      if (err.code !== 'cancelled') this.error = err;
    } finally {
      this.running = false;
    }
  }

  async stop(): Promise<void> {
    try {
      await api.generationStop();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  reset(): void {
    this.plain = emptyPane();
    this.speculative = emptyPane();
    this.running = false;
    this.result = null;
    this.error = null;
  }
}

export const race = new RaceStore();
