import { describe, expect, it } from 'vitest';
import { normaliseSelection, previewParts } from './docs';

describe('previewParts', () => {
  const body = 'Hello there world';
  it('appends when continuing', () => {
    expect(previewParts(body, 'continue', 0, 5)).toEqual({ before: body, after: '', separate: false });
  });
  it('replaces the selection when rewriting or fixing grammar', () => {
    expect(previewParts(body, 'rewrite', 6, 11)).toEqual({ before: 'Hello ', after: ' world', separate: false });
    expect(previewParts(body, 'grammar', 11, 6)).toEqual({ before: 'Hello ', after: ' world', separate: false });
  });
  it('replaces the whole text without a selection', () => {
    expect(previewParts(body, 'grammar', 3, 3)).toEqual({ before: '', after: '', separate: false });
  });
  it('shows a summary separately', () => {
    expect(previewParts(body, 'summarise', null, null)).toEqual({ before: body, after: '', separate: true });
  });
  it('clamps selections', () => {
    expect(normaliseSelection('abc', -2, 99)).toEqual({ start: 0, end: 3 });
    expect(normaliseSelection('abc', null, 2)).toEqual({ start: null, end: null });
  });
});
