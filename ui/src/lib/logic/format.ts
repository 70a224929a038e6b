// Number formatting in plain units. Words around the numbers come from the i18n tables.
import type { Stats } from '../api/types';

const GB = 1e9;
const MB = 1e6;

/** "1.5 GB", "0.35 GB", "120 MB" for small files. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes >= GB) return `${(bytes / GB).toFixed(1)} GB`;
  if (bytes >= 100 * MB) return `${(bytes / GB).toFixed(2)} GB`;
  return `${Math.max(0, Math.round(bytes / MB))} MB`;
}

export function formatRate(tokensPerSecond: number | null | undefined): string {
  if (tokensPerSecond === null || tokensPerSecond === undefined || !Number.isFinite(tokensPerSecond))
    return '—';
  return tokensPerSecond >= 100 ? tokensPerSecond.toFixed(0) : tokensPerSecond.toFixed(1);
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${Math.round(fraction * 100)}%`;
}

export function formatDecimal(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

/** Words for time units (from the i18n table). */
export interface TimeUnits {
  s: string;
  min: string;
  h: string;
}

const EN_UNITS: TimeUnits = { s: 's', min: 'min', h: 'h' };

/** Seconds with one decimal: "3.2 s". */
export function formatSeconds(ms: number | null | undefined, units: TimeUnits = EN_UNITS): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return `${(ms / 1000).toFixed(1)} ${units.s}`;
}

/** "12 s", "3 min 05 s", "1 h 02 min". */
export function formatEta(seconds: number | null | undefined, units: TimeUnits = EN_UNITS): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} ${units.s}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} ${units.min} ${String(s % 60).padStart(2, '0')} ${units.s}`;
  return `${Math.floor(m / 60)} ${units.h} ${String(m % 60).padStart(2, '0')} ${units.min}`;
}

/** 0..1 progress fraction, safe for zero totals. */
export function fraction(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(1, Math.max(0, done / total));
}

export interface StatsView {
  tokensPerSecond: string;
  acceptance: string;
  meanAccepted: string;
  drafter: string;
}

export function statsView(stats: Stats): StatsView {
  return {
    tokensPerSecond: formatRate(stats.tokensPerSecond),
    acceptance: stats.drafted > 0 ? formatPercent(stats.acceptanceRate) : '—',
    meanAccepted: stats.steps > 0 && stats.drafted > 0 ? formatDecimal(stats.meanAccepted) : '—',
    drafter: stats.drafter,
  };
}

/** Speed-up of b over a, e.g. 2.1 for "×2.1". Null when a is zero. */
export function speedup(plainTps: number, specTps: number): number | null {
  if (!(plainTps > 0) || !Number.isFinite(specTps)) return null;
  return specTps / plainTps;
}

export function formatDate(ms: number, lang: string): string {
  try {
    return new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
    });
  } catch {
    return new Date(ms).toISOString();
  }
}
