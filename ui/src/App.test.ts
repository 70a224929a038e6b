import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { callsOf, handlers } from './test/tauri';
import { resetAll, settle } from './test/reset';
import { infoFixture, modelFixture, pairFixture, settingsFixture } from './test/fixtures';
import App from './App.svelte';

vi.mock('@tauri-apps/api/core', () => import('./test/tauri'));

function shell(opts: { loaded: boolean; firstRun?: boolean; language?: 'en' | 'zh' }) {
  handlers.app_info = () => infoFixture({ firstRun: opts.firstRun ?? false });
  handlers.settings_get = () => settingsFixture({ language: opts.language ?? 'en' });
  handlers.settings_set = (a) => a.settings;
  handlers.devices_list = () => [{ id: 'cpu', name: 'CPU', kind: 'cpu', memoryBytes: null, freeBytes: null }];
  handlers.models_list = () => [modelFixture({ id: 'big' }), modelFixture({ id: 'small', name: 'Small Model' })];
  handlers.pairs_list = () => [pairFixture()];
  handlers.pair_current = () =>
    opts.loaded ? { target: 'big', draft: 'small', drafter: 'auto', memoryBytes: 1.5e9, targetDevice: 'cpu', draftDevice: 'cpu', deviceNote: null } : null;
  handlers.conversations_list = () => [];
  handlers.models_recommend = () => ({ pair: null, reason: 'r', machine: { totalRamBytes: 1, availableRamBytes: 1, freeDiskBytes: 1, cores: 1 }, others: [] });
  handlers.documents_list = () => [];
}

beforeEach(() => resetAll());

describe('App', () => {
  it('goes straight to chat when a pair is loaded', async () => {
    shell({ loaded: true });
    render(App);
    await settle(10);
    expect(screen.getByTestId('screen-chat')).toBeTruthy();
  });

  it('shows the first-run screen otherwise, never a blank page', async () => {
    shell({ loaded: false, firstRun: true });
    render(App);
    await settle(10);
    expect(screen.getByTestId('screen-start')).toBeTruthy();
    expect(screen.getByTestId('load-and-start')).toBeTruthy();
  });

  it('moves between screens with the nav buttons', async () => {
    shell({ loaded: true });
    render(App);
    await settle(10);
    for (const name of ['inspector', 'race', 'documents', 'models', 'settings', 'chat']) {
      const button = screen.getByTestId(`nav-${name}`);
      expect(button.tagName).toBe('BUTTON');
      await fireEvent.click(button);
      await settle();
      expect(screen.getByTestId(`screen-${name}`)).toBeTruthy();
      expect(button.getAttribute('aria-current')).toBe('page');
    }
  });

  it('switches visible labels when the language changes, and saves it', async () => {
    shell({ loaded: true });
    render(App);
    await settle(10);
    expect(screen.getByTestId('nav-chat').textContent).toBe('Chat');
    expect(screen.getByTestId('send').textContent).toBe('Send');
    const sw = screen.getByTestId('language-switch') as HTMLSelectElement;
    await fireEvent.change(sw, { target: { value: 'zh' } });
    await settle();
    expect(screen.getByTestId('nav-chat').textContent).toBe('对话');
    expect(screen.getByTestId('nav-settings').textContent).toBe('设置');
    expect(screen.getByTestId('send').textContent).toBe('发送');
    expect(screen.getByTestId('legend').textContent).toContain('大模型自己写的');
    expect((callsOf('settings_set').at(-1)!.settings as { language: string }).language).toBe('zh');
    expect(document.documentElement.lang).toBe('zh-CN');
  });

  it('starts in the saved language and applies the theme', async () => {
    shell({ loaded: true, language: 'zh' });
    render(App);
    await settle(10);
    expect(screen.getByTestId('nav-models').textContent).toBe('模型');
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('gives every button an accessible name', async () => {
    shell({ loaded: true });
    render(App);
    await settle(10);
    for (const name of ['chat', 'models', 'settings', 'documents', 'race', 'inspector']) {
      await fireEvent.click(screen.getByTestId(`nav-${name}`));
      await settle();
      for (const b of Array.from(document.querySelectorAll('button'))) {
        const label = (b.getAttribute('aria-label') ?? b.textContent ?? '').trim();
        expect(label, b.outerHTML).not.toBe('');
      }
      for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
        const id = el.getAttribute('id');
        const labelled =
          el.getAttribute('aria-label') ||
          el.closest('label') ||
          (id && document.querySelector(`label[for="${id}"]`));
        expect(labelled, el.outerHTML).toBeTruthy();
      }
    }
  });
});
