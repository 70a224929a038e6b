import { describe, expect, it } from 'vitest';
import type { DownloadEvent } from '../api/types';
import { isActive, reduceDownload, startingDownload } from './downloads';

describe('reduceDownload', () => {
  it('follows a download from start to done', () => {
    const evs: DownloadEvent[] = [
      { type: 'started', id: 'm', totalBytes: 100, resumedFromBytes: 20 },
      { type: 'progress', id: 'm', doneBytes: 60, totalBytes: 100, bytesPerSecond: 10, etaSeconds: 4 },
    ];
    let v = evs.reduce(reduceDownload, startingDownload());
    expect(v).toMatchObject({ phase: 'downloading', doneBytes: 60, totalBytes: 100, bytesPerSecond: 10, etaSeconds: 4 });
    expect(isActive(v)).toBe(true);
    v = reduceDownload(v, { type: 'retrying', id: 'm', attempt: 2, waitSeconds: 5, reason: 'timed out' });
    expect(v).toMatchObject({ phase: 'retrying', attempt: 2, waitSeconds: 5, reason: 'timed out', doneBytes: 60 });
    v = reduceDownload(v, { type: 'verifying', id: 'm', doneBytes: 50, totalBytes: 100 });
    expect(v.phase).toBe('verifying');
    v = reduceDownload(v, { type: 'done', id: 'm', path: '/models/m.gguf' });
    expect(v).toMatchObject({ phase: 'done', path: '/models/m.gguf' });
    expect(isActive(v)).toBe(false);
  });

  it('starts from the resumed offset and records a pause', () => {
    let v = reduceDownload(startingDownload(), { type: 'started', id: 'm', totalBytes: 100, resumedFromBytes: 40 });
    expect(v.doneBytes).toBe(40);
    v = reduceDownload(v, { type: 'paused', id: 'm', doneBytes: 70, totalBytes: 100 });
    expect(v).toMatchObject({ phase: 'paused', doneBytes: 70 });
    expect(isActive(v)).toBe(false);
  });
});
