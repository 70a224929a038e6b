import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import type { Settings } from '../api/types';
import { callsOf, handlers } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { infoFixture, settingsFixture } from '../../test/fixtures';
import { settings } from '../stores/settings.svelte';
import SettingsScreen from './Settings.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

beforeEach(async () => {
  resetAll();
  handlers.app_info = () => infoFixture();
  handlers.settings_get = () => settingsFixture();
  handlers.settings_set = (a) => a.settings;
  handlers.devices_list = () => [
    { id: 'auto', name: 'Automatic', kind: 'auto', memoryBytes: null, freeBytes: null },
    { id: 'cpu', name: 'CPU', kind: 'cpu', memoryBytes: null, freeBytes: null },
    { id: 'cuda:0', name: 'GeForce', kind: 'cuda', memoryBytes: 8e9, freeBytes: 6e9 },
  ];
  await settings.load();
});

const field = (id: string) => screen.getByTestId(`settings-${id}`) as HTMLInputElement;

describe('Settings', () => {
  it('shows every setting with the devices from the shell', async () => {
    render(SettingsScreen);
    await settle();
    for (const id of [
      'target-device',
      'draft-device',
      'drafter',
      'draft-length',
      'draft-length-auto',
      'temperature',
      'top-p',
      'seed',
      'seed-random',
      'system-prompt',
      'language',
      'theme',
      'keep-rejected',
      'hf-token',
      'hf-endpoint',
    ]) {
      expect(field(id), id).toBeTruthy();
    }
    const options = Array.from((field('target-device') as unknown as HTMLSelectElement).options);
    expect(options.map((o) => o.value)).toEqual(['auto', 'cpu', 'cuda:0']);
    // The automatic choice is named in the person's language, not the shell's words.
    expect(options[0].textContent).toBe('Automatic (the graphics card when the model fits on it)');
    expect(options[2].textContent).toContain('GeForce');
    expect(field('draft-length').disabled).toBe(true);
    expect(screen.getByTestId('app-info').textContent).toContain('avx2');
  });

  it('saves the changed values with settings_set', async () => {
    render(SettingsScreen);
    await settle();
    await fireEvent.change(field('target-device'), { target: { value: 'cuda:0' } });
    await fireEvent.change(field('drafter'), { target: { value: 'ngram' } });
    await fireEvent.click(field('draft-length-auto'));
    await fireEvent.input(field('draft-length'), { target: { value: '6' } });
    await fireEvent.input(field('temperature'), { target: { value: '0.7' } });
    await fireEvent.click(field('seed-random'));
    await fireEvent.input(field('seed'), { target: { value: '42' } });
    await fireEvent.input(field('system-prompt'), { target: { value: 'Be brief.' } });
    await fireEvent.click(field('keep-rejected'));
    await fireEvent.input(field('hf-token'), { target: { value: ' hf_abc ' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await settle();
    const saved = callsOf('settings_set').at(-1)!.settings as Settings;
    expect(saved).toMatchObject({
      targetDevice: 'cuda:0',
      drafter: 'ngram',
      draftLength: 6,
      temperature: 0.7,
      seed: 42,
      systemPrompt: 'Be brief.',
      keepRejected: true,
      hfToken: 'hf_abc',
      hfEndpoint: null,
    });
    expect(screen.getByTestId('settings-saved')).toBeTruthy();
  });

  it('never sends a draft length outside 1..16', async () => {
    render(SettingsScreen);
    await settle();
    await fireEvent.click(field('draft-length-auto'));
    await fireEvent.input(field('draft-length'), { target: { value: '40' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await settle();
    // The number field refuses 40 (max 16); whatever is sent stays in range.
    for (const c of callsOf('settings_set')) {
      const n = (c.settings as Settings).draftLength;
      expect(n === 'auto' || (n >= 1 && n <= 16)).toBe(true);
    }
    expect(field('draft-length').validity.rangeOverflow).toBe(true);
  });

  it('changes the language at once', async () => {
    render(SettingsScreen);
    await settle();
    expect(screen.getByText('Language')).toBeTruthy();
    await fireEvent.change(field('language'), { target: { value: 'zh' } });
    await settle();
    expect(screen.getByText('语言')).toBeTruthy();
    expect(screen.getByTestId('settings-save').textContent?.trim()).toBe('保存');
  });

  it('applies the theme at once', async () => {
    render(SettingsScreen);
    await settle();
    await fireEvent.change(field('theme'), { target: { value: 'dark' } });
    await settle();
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect((callsOf('settings_set').at(-1)!.settings as Settings).theme).toBe('dark');
  });
});
