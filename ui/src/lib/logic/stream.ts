// Pure reducer: generation events -> coloured token spans. Token pieces stay plain text.
import type { GenEvent, Stats, StopReason, TraceStep } from '../api/types';

export type Origin = 'accepted' | 'target' | 'rejected';

export interface Span {
  /** stable key for keyed rendering */
  key: number;
  text: string;
  origin: Origin;
  /** index of the verification step that produced it */
  step: number;
}

export interface StreamDone {
  stats: Stats;
  reason: StopReason;
  messageId: number | null;
}

export interface StreamState {
  spans: Span[];
  /** the visible answer so far (accepted + corrections, never rejected guesses) */
  text: string;
  steps: TraceStep[];
  /** visible tokens so far */
  generated: number;
  drafted: number;
  acceptedCount: number;
  promptTokens: number | null;
  prefillMs: number | null;
  /** clock time (ms) when the first token became visible */
  firstTokenAt: number | null;
  /** clock time (ms) of the latest token */
  lastTokenAt: number | null;
  /** tokens that arrived together with the first one (they took no measured time) */
  firstBatch: number;
  done: StreamDone | null;
  nextKey: number;
}

export interface ReduceOptions {
  /** clock time in ms (performance.now() or Date.now()) */
  now: number;
  /** keep struck-through guesses instead of letting them fade away */
  keepRejected: boolean;
}

export function emptyStream(): StreamState {
  return {
    spans: [],
    text: '',
    steps: [],
    generated: 0,
    drafted: 0,
    acceptedCount: 0,
    promptTokens: null,
    prefillMs: null,
    firstTokenAt: null,
    lastTokenAt: null,
    firstBatch: 0,
    done: null,
    nextKey: 0,
  };
}

function dropRejected(spans: Span[]): Span[] {
  return spans.filter((s) => s.origin !== 'rejected');
}

/**
 * Apply one event. Within a step the spans are: accepted guesses, then the rejected guesses
 * (where the target disagreed), then the target's own token. Without keepRejected only the
 * latest step's rejected guesses stay (they fade out by CSS) and all go when the answer is done.
 */
export function reduceStream(state: StreamState, ev: GenEvent, opts: ReduceOptions): StreamState {
  switch (ev.type) {
    case 'prefill':
      return { ...state, promptTokens: ev.promptTokens, prefillMs: ev.ms };
    case 'step': {
      const stepIndex = state.steps.length;
      let key = state.nextKey;
      const base = opts.keepRejected ? state.spans : dropRejected(state.spans);
      const added: Span[] = [];
      for (const text of ev.accepted) added.push({ key: key++, text, origin: 'accepted', step: stepIndex });
      for (const text of ev.rejected) added.push({ key: key++, text, origin: 'rejected', step: stepIndex });
      if (ev.correction !== '')
        added.push({ key: key++, text: ev.correction, origin: 'target', step: stepIndex });
      const visible = ev.accepted.length + (ev.correction !== '' ? 1 : 0);
      const step: TraceStep = {
        accepted: ev.accepted,
        correction: ev.correction,
        rejected: ev.rejected,
        drafter: ev.drafter,
        draftMs: ev.draftMs,
        verifyMs: ev.verifyMs,
      };
      const first = state.firstTokenAt === null && visible > 0;
      const firstTokenAt = first ? opts.now : state.firstTokenAt;
      return {
        ...state,
        spans: base.concat(added),
        text: state.text + ev.accepted.join('') + ev.correction,
        steps: state.steps.concat([step]),
        generated: state.generated + visible,
        drafted: state.drafted + (ev.drafter ? ev.accepted.length + ev.rejected.length : 0),
        acceptedCount: state.acceptedCount + (ev.drafter ? ev.accepted.length : 0),
        firstTokenAt,
        lastTokenAt: visible > 0 ? opts.now : state.lastTokenAt,
        firstBatch: first ? visible : state.firstBatch,
        nextKey: key,
      };
    }
    case 'done':
      return {
        ...state,
        spans: opts.keepRejected ? state.spans : dropRejected(state.spans),
        done: { stats: ev.stats, reason: ev.reason, messageId: ev.messageId },
      };
  }
}

/** Fold a whole event list (e.g. a stored trace turned into events). */
export function reduceAll(events: GenEvent[], opts: ReduceOptions): StreamState {
  return events.reduce((s, ev) => reduceStream(s, ev, opts), emptyStream());
}

/** Trace steps as step events, for replay and for colouring a stored message. */
export function traceToEvents(steps: TraceStep[]): GenEvent[] {
  return steps.map((s) => ({ type: 'step', ...s }));
}

/** Below this much elapsed time a live rate would be noise, so none is shown. */
export const MIN_RATE_ELAPSED_MS = 250;

/**
 * Cumulative speed while streaming: the tokens generated since the first token divided by the
 * time elapsed since it (never an instantaneous rate). The first step's tokens arrive at the
 * moment the clock starts, so they are not counted against zero time. Null until
 * MIN_RATE_ELAPSED_MS have passed.
 */
export function liveTokensPerSecond(state: StreamState): number | null {
  if (state.firstTokenAt === null || state.lastTokenAt === null) return null;
  const elapsed = state.lastTokenAt - state.firstTokenAt;
  if (elapsed < MIN_RATE_ELAPSED_MS) return null;
  return ((state.generated - state.firstBatch) / elapsed) * 1000;
}

/** Live stand-in for Stats while the answer is still being written. */
export interface LiveSummary {
  tokensPerSecond: number | null;
  acceptanceRate: number | null;
  meanAccepted: number | null;
  drafter: string | null;
}

export function liveSummary(state: StreamState): LiveSummary {
  const drafted = state.steps.filter((s) => s.drafter !== null);
  const last = state.steps.length ? state.steps[state.steps.length - 1] : null;
  return {
    tokensPerSecond: liveTokensPerSecond(state),
    acceptanceRate: state.drafted > 0 ? state.acceptedCount / state.drafted : null,
    meanAccepted: drafted.length > 0 ? state.acceptedCount / drafted.length : null,
    drafter: last ? (last.drafter ?? 'off') : null,
  };
}
