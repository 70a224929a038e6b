import { describe, expect, it } from 'vitest';
import { infoFixture, modelFixture, pairFixture } from '../../test/fixtures';
import { decideStart, missingModels, readyPair } from './start';

const big = modelFixture({ id: 'big' });
const small = modelFixture({ id: 'small', name: 'Small' });
const loaded = { target: 'big', draft: 'small', drafter: 'auto' as const, memoryBytes: 1, targetDevice: 'cpu', draftDevice: 'cpu', deviceNote: null };

describe('decideStart', () => {
  it('offers "Load and start" when a catalog pair is downloaded', () => {
    const d = decideStart(infoFixture({ firstRun: true }), [big, small], [pairFixture()], null);
    expect(d).toEqual({ kind: 'load', pair: pairFixture() });
  });

  it('offers the download when no pair is ready', () => {
    const d = decideStart(infoFixture(), [big, { ...small, status: 'not_downloaded' }], [pairFixture()], null);
    expect(d.kind).toBe('download');
  });

  it('goes straight to chat when a pair is loaded and it is not the first run', () => {
    expect(decideStart(infoFixture(), [big, small], [pairFixture()], loaded).kind).toBe('chat');
  });

  it('prefers the default pair', () => {
    const other = pairFixture({ target: 'small', draft: 'big', isDefault: false });
    expect(readyPair([other, pairFixture()], [big, small])).toEqual(pairFixture());
  });

  it('lists what is still missing, target first', () => {
    expect(missingModels(pairFixture(), [])).toEqual(['big', 'small']);
    expect(missingModels(pairFixture(), [big])).toEqual(['small']);
  });
});
