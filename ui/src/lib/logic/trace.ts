// Pure helpers over a stored or live speculation trace.
import type { TraceStep } from '../api/types';

export interface PositionStat {
  /** 1-based draft position */
  position: number;
  proposed: number;
  accepted: number;
  /** accepted / proposed, 0..1 */
  fraction: number;
}

/**
 * For each draft position 1..k: how often the guess at that position was accepted.
 * A step proposed accepted.length + rejected.length guesses; steps without a drafter are skipped.
 */
export function acceptanceByPosition(steps: TraceStep[]): PositionStat[] {
  const proposed: number[] = [];
  const accepted: number[] = [];
  for (const s of steps) {
    if (s.drafter === null) continue;
    const k = s.accepted.length + s.rejected.length;
    for (let i = 0; i < k; i++) {
      proposed[i] = (proposed[i] ?? 0) + 1;
      if (i < s.accepted.length) accepted[i] = (accepted[i] ?? 0) + 1;
    }
  }
  return proposed.map((p, i) => ({
    position: i + 1,
    proposed: p,
    accepted: accepted[i] ?? 0,
    fraction: p > 0 ? (accepted[i] ?? 0) / p : 0,
  }));
}

export interface SpeedPoint {
  /** 1-based step number */
  step: number;
  /** recorded time so far (draft + verify), ms */
  ms: number;
  /** visible tokens so far */
  tokens: number;
  /** cumulative tokens per second at this point */
  rate: number;
}

/** Cumulative speed over the message from the recorded step timings. */
export function speedSeries(steps: TraceStep[]): SpeedPoint[] {
  let ms = 0;
  let tokens = 0;
  const out: SpeedPoint[] = [];
  steps.forEach((s, i) => {
    ms += s.draftMs + s.verifyMs;
    tokens += s.accepted.length + (s.correction !== '' ? 1 : 0);
    out.push({ step: i + 1, ms, tokens, rate: ms > 0 ? (tokens / ms) * 1000 : 0 });
  });
  return out;
}

/** Delay before each step when replaying at `speed` (1 = recorded pace). */
export function replayDelays(steps: TraceStep[], speed: number): number[] {
  const f = speed > 0 ? speed : 1;
  return steps.map((s) => Math.max(0, (s.draftMs + s.verifyMs) / f));
}

/** Where the target disagreed in a step: index of the first rejected guess, or null if none. */
export function disagreementAt(step: TraceStep): number | null {
  return step.rejected.length > 0 ? step.accepted.length : null;
}
