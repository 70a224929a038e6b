import { describe, expect, it } from 'vitest';
import type { GenEvent } from '../api/types';
import { statsFixture } from '../../test/fixtures';
import { emptyStream, liveSummary, liveTokensPerSecond, reduceAll, reduceStream, traceToEvents } from './stream';

const step = (accepted: string[], correction: string, rejected: string[], drafter: 'model' | 'ngram' | null = 'model'): GenEvent => ({
  type: 'step',
  accepted,
  correction,
  rejected,
  drafter,
  draftMs: 5,
  verifyMs: 20,
});

const view = (s: ReturnType<typeof emptyStream>) => s.spans.map((x) => [x.origin, x.text]);

describe('reduceStream', () => {
  it('turns a step into accepted, rejected, then target spans', () => {
    const s = reduceStream(emptyStream(), step([' The', ' cat'], ' sat', [' ran', ' off']), { now: 0, keepRejected: true });
    expect(view(s)).toEqual([
      ['accepted', ' The'],
      ['accepted', ' cat'],
      ['rejected', ' ran'],
      ['rejected', ' off'],
      ['target', ' sat'],
    ]);
    expect(s.text).toBe(' The cat sat');
    expect(s.generated).toBe(3);
    expect(s.drafted).toBe(4);
    expect(s.acceptedCount).toBe(2);
  });

  it('keeps every rejected guess when keepRejected is on', () => {
    const s = reduceAll([step(['a'], 'b', ['x']), step([], 'c', ['y', 'z']), { type: 'done', stats: statsFixture(), reason: 'eos', messageId: 7 }], {
      now: 0,
      keepRejected: true,
    });
    expect(view(s)).toEqual([
      ['accepted', 'a'],
      ['rejected', 'x'],
      ['target', 'b'],
      ['rejected', 'y'],
      ['rejected', 'z'],
      ['target', 'c'],
    ]);
    expect(s.done?.messageId).toBe(7);
  });

  it('without keepRejected only the latest step keeps its struck guesses, and none after done', () => {
    const opts = { now: 0, keepRejected: false };
    let s = reduceStream(emptyStream(), step(['a'], 'b', ['x']), opts);
    expect(view(s)).toContainEqual(['rejected', 'x']);
    s = reduceStream(s, step(['c'], 'd', ['y']), opts);
    expect(view(s)).toEqual([
      ['accepted', 'a'],
      ['target', 'b'],
      ['accepted', 'c'],
      ['rejected', 'y'],
      ['target', 'd'],
    ]);
    s = reduceStream(s, { type: 'done', stats: statsFixture(), reason: 'eos', messageId: null }, opts);
    expect(s.spans.some((x) => x.origin === 'rejected')).toBe(false);
    expect(s.text).toBe('abcd');
  });

  it('adds no span for an end token (empty correction)', () => {
    const s = reduceStream(emptyStream(), step(['a', 'b'], '', []), { now: 0, keepRejected: false });
    expect(view(s)).toEqual([
      ['accepted', 'a'],
      ['accepted', 'b'],
    ]);
    expect(s.generated).toBe(2);
  });

  it('counts plain-decoding steps as target tokens, not as drafted', () => {
    const s = reduceStream(emptyStream(), step([], 'x', [], null), { now: 0, keepRejected: false });
    expect(view(s)).toEqual([['target', 'x']]);
    expect(s.drafted).toBe(0);
  });

  it('gives every span a unique key', () => {
    const s = reduceAll([step(['a'], 'b', ['x']), step(['c'], 'd', [])], { now: 0, keepRejected: true });
    expect(new Set(s.spans.map((x) => x.key)).size).toBe(s.spans.length);
  });

  it('records prefill', () => {
    const s = reduceStream(emptyStream(), { type: 'prefill', promptTokens: 12, ms: 40 }, { now: 0, keepRejected: false });
    expect(s.promptTokens).toBe(12);
    expect(s.prefillMs).toBe(40);
    expect(s.spans).toEqual([]);
  });

  it('keeps token pieces as literal text (no HTML interpretation)', () => {
    const s = reduceStream(emptyStream(), step(['<b>'], '<script>', []), { now: 0, keepRejected: false });
    expect(s.text).toBe('<b><script>');
  });
});

describe('live speed', () => {
  it('is cumulative: tokens generated over time since the first token', () => {
    let s = reduceStream(emptyStream(), step(['a', 'b'], 'c', []), { now: 1000, keepRejected: false });
    expect(liveTokensPerSecond(s)).toBeNull();
    s = reduceStream(s, step(['d'], 'e', []), { now: 1100, keepRejected: false });
    // too little time has passed for a meaningful rate
    expect(liveTokensPerSecond(s)).toBeNull();
    s = reduceStream(s, step(['f', 'g', 'h'], 'i', []), { now: 1500, keepRejected: false });
    // 6 tokens since the first batch of 3, over 0.5 s
    expect(liveTokensPerSecond(s)).toBeCloseTo(12);
    s = reduceStream(s, step([], 'j', []), { now: 2000, keepRejected: false });
    // 7 tokens over 1 s: cumulative, not the instantaneous 1 token / 0.5 s
    expect(liveTokensPerSecond(s)).toBeCloseTo(7);
  });

  it('summarises acceptance and mean accepted length', () => {
    const s = reduceAll([step(['a', 'b'], 'c', ['x']), step([], 'd', ['y', 'z'])], { now: 0, keepRejected: false });
    const sum = liveSummary(s);
    expect(sum.acceptanceRate).toBeCloseTo(2 / 5);
    expect(sum.meanAccepted).toBeCloseTo(1);
    expect(sum.drafter).toBe('model');
  });
});

describe('traceToEvents', () => {
  it('turns stored steps into step events', () => {
    const evs = traceToEvents([{ accepted: ['a'], correction: 'b', rejected: [], drafter: 'ngram', draftMs: 1, verifyMs: 2 }]);
    expect(evs).toEqual([{ type: 'step', accepted: ['a'], correction: 'b', rejected: [], drafter: 'ngram', draftMs: 1, verifyMs: 2 }]);
  });
});
