import { describe, expect, it } from 'vitest';
import { statsFixture } from '../../test/fixtures';
import { formatBytes, formatEta, formatPercent, formatRate, fraction, speedup, statsView } from './format';

describe('format', () => {
  it('shows sizes in plain units', () => {
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
    expect(formatBytes(350_000_000)).toBe('0.35 GB');
    expect(formatBytes(42_000_000)).toBe('42 MB');
    expect(formatBytes(null)).toBe('—');
  });

  it('formats rates, percentages and ETAs', () => {
    expect(formatRate(12.345)).toBe('12.3');
    expect(formatRate(150.4)).toBe('150');
    expect(formatRate(null)).toBe('—');
    expect(formatPercent(0.756)).toBe('76%');
    expect(formatEta(42)).toBe('42 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
    expect(formatEta(null)).toBe('—');
  });

  it('guards fractions and speed-ups against zero', () => {
    expect(fraction(5, 0)).toBe(0);
    expect(fraction(5, 10)).toBe(0.5);
    expect(fraction(20, 10)).toBe(1);
    expect(speedup(10, 25)).toBe(2.5);
    expect(speedup(0, 25)).toBeNull();
  });

  it('builds the per-message stats view', () => {
    expect(statsView(statsFixture())).toEqual({ tokensPerSecond: '20.0', acceptance: '75%', meanAccepted: '1.5', drafter: 'model' });
    expect(statsView(statsFixture({ drafted: 0, drafter: 'off' })).acceptance).toBe('—');
  });
});
