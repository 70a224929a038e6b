// Settings, devices and app info from the shell; applies language and theme.
import * as api from '../api/backend';
import { toAppError } from '../api/errors';
import type { AppError, AppInfo, Device, Lang, Settings, Theme } from '../api/types';
import { setLang } from '../i18n/index.svelte';

export function resolveTheme(theme: Theme): 'light' | 'dark' {
  if (theme !== 'system') return theme;
  const dark =
    typeof window !== 'undefined' &&
    typeof window.matchMedia === 'function' &&
    window.matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  if (typeof document !== 'undefined') document.documentElement.dataset.theme = resolveTheme(theme);
}

class SettingsStore {
  value = $state<Settings | null>(null);
  devices = $state<Device[]>([]);
  info = $state<AppInfo | null>(null);
  error = $state<AppError | null>(null);
  saving = $state(false);

  get keepRejected(): boolean {
    return this.value?.keepRejected ?? false;
  }

  private apply(s: Settings): void {
    setLang(s.language);
    applyTheme(s.theme);
  }

  async load(): Promise<void> {
    try {
      const [info, settings] = await Promise.all([api.appInfo(), api.settingsGet()]);
      this.info = info;
      this.value = settings;
      this.apply(settings);
      this.error = null;
    } catch (e) {
      this.error = toAppError(e);
    }
    try {
      this.devices = await api.devicesList();
    } catch {
      this.devices = [];
    }
  }

  async save(next: Settings): Promise<boolean> {
    this.saving = true;
    try {
      const saved = await api.settingsSet($state.snapshot(next) as Settings);
      this.value = saved;
      this.apply(saved);
      this.error = null;
      return true;
    } catch (e) {
      this.error = toAppError(e);
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Switch language at once (shown immediately, then saved). */
  async setLanguage(lang: Lang): Promise<void> {
    setLang(lang);
    if (this.value) await this.save({ ...this.value, language: lang });
  }

  async setTheme(theme: Theme): Promise<void> {
    applyTheme(theme);
    if (this.value) await this.save({ ...this.value, theme });
  }

  reset(): void {
    this.value = null;
    this.devices = [];
    this.info = null;
    this.error = null;
    this.saving = false;
    setLang('en');
  }
}

export const settings = new SettingsStore();
