import { describe, expect, it } from 'vitest';
import { en } from './en';
import { zh } from './zh';
import { i18n, setLang, t } from './index.svelte';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n tables', () => {
  it('have exactly the same keys', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it('have no empty values', () => {
    for (const [k, v] of Object.entries(en)) expect(v.trim(), `en ${k}`).not.toBe('');
    for (const [k, v] of Object.entries(zh)) expect(v.trim(), `zh ${k}`).not.toBe('');
  });

  it('use the same placeholders in both languages', () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zh[k]), k).toEqual(placeholders(en[k]));
    }
  });

  it('cover every key the source uses', () => {
    const files = import.meta.glob('../**/*.{svelte,ts}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    const appFiles = import.meta.glob('../../App.svelte', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    const used = new Set<string>();
    for (const [path, src] of Object.entries({ ...files, ...appFiles })) {
      if (path.endsWith('.test.ts')) continue;
      for (const m of src.matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
      for (const m of src.matchAll(/key: '([\w.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    for (const k of used) expect(Object.keys(en), k).toContain(k);
  });
});

describe('t()', () => {
  it('follows the active language and fills placeholders', () => {
    setLang('en');
    expect(t('nav.chat')).toBe('Chat');
    expect(t('stats.speed', { n: '12.5' })).toBe('12.5 tokens/s');
    setLang('zh');
    expect(i18n.lang).toBe('zh');
    expect(t('nav.chat')).toBe('对话');
    expect(t('stats.speed', { n: '12.5' })).toBe('每秒 12.5 个词元');
    setLang('en');
  });
});

describe('units and drafter names', async () => {
  const { timeUnits, drafterName } = await import('./units');
  const { formatEta } = await import('../logic/format');
  it('follow the active language', () => {
    setLang('zh');
    expect(formatEta(185, timeUnits())).toBe('3 分 05 秒');
    expect(drafterName('model')).toBe('小模型');
    setLang('en');
    expect(formatEta(185, timeUnits())).toBe('3 min 05 s');
    expect(drafterName('ngram')).toBe('earlier text');
    expect(drafterName('off')).toBe('none');
    expect(drafterName('something-new')).toBe('something-new');
  });
});
