// The active language and the lookup function. Every visible string goes through t().
import type { Lang } from '../api/types';
import { en, type MessageKey } from './en';
import { zh } from './zh';

export const tables: Record<Lang, Record<MessageKey, string>> = { en, zh };

export const i18n = $state<{ lang: Lang }>({ lang: 'en' });

export function setLang(lang: Lang): void {
  i18n.lang = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

/** Look up a string and fill {name} placeholders. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const s = tables[i18n.lang][key] ?? en[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

export type { MessageKey };
