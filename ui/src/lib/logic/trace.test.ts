import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../api/types';
import { acceptanceByPosition, disagreementAt, replayDelays, speedSeries } from './trace';

const s = (accepted: number, rejected: number, correction = 'x', drafter: TraceStep['drafter'] = 'model', ms = [10, 40]): TraceStep => ({
  accepted: Array.from({ length: accepted }, (_, i) => `a${i}`),
  rejected: Array.from({ length: rejected }, (_, i) => `r${i}`),
  correction,
  drafter,
  draftMs: ms[0],
  verifyMs: ms[1],
});

describe('acceptanceByPosition', () => {
  it('computes the accepted fraction per draft position', () => {
    // step 1 proposes 4, accepts 2; step 2 proposes 4, accepts 4; step 3 proposes 2, accepts 0
    const out = acceptanceByPosition([s(2, 2), s(4, 0), s(0, 2)]);
    expect(out.map((p) => [p.position, p.accepted, p.proposed])).toEqual([
      [1, 2, 3],
      [2, 2, 3],
      [3, 1, 2],
      [4, 1, 2],
    ]);
    expect(out[0].fraction).toBeCloseTo(2 / 3);
    expect(out[3].fraction).toBeCloseTo(0.5);
  });

  it('skips plain steps and is empty without guesses', () => {
    expect(acceptanceByPosition([s(0, 0, 'x', null)])).toEqual([]);
    expect(acceptanceByPosition([])).toEqual([]);
  });
});

describe('speedSeries', () => {
  it('is cumulative tokens over cumulative recorded time', () => {
    const out = speedSeries([s(3, 1, 'x', 'model', [10, 40]), s(0, 2, 'y', 'model', [10, 40]), s(1, 0, '', 'model', [0, 50])]);
    expect(out.map((p) => [p.step, p.ms, p.tokens])).toEqual([
      [1, 50, 4],
      [2, 100, 5],
      [3, 150, 6],
    ]);
    expect(out[0].rate).toBeCloseTo(80);
    expect(out[2].rate).toBeCloseTo(40);
  });
});

describe('replayDelays', () => {
  it('uses the recorded pace, divided by the speed', () => {
    const steps = [s(1, 0, 'x', 'model', [10, 30]), s(1, 0, 'x', 'model', [20, 60])];
    expect(replayDelays(steps, 1)).toEqual([40, 80]);
    expect(replayDelays(steps, 4)).toEqual([10, 20]);
  });
});

describe('disagreementAt', () => {
  it('points at the first rejected guess', () => {
    expect(disagreementAt(s(2, 3))).toBe(2);
    expect(disagreementAt(s(2, 0))).toBeNull();
  });
});
