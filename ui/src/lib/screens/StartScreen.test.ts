import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import type { DownloadEvent, LoadEvent } from '../api/types';
import { callsOf, channelOf, deferred, handlers } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { infoFixture, modelFixture, pairFixture, recommendationFixture } from '../../test/fixtures';
import { models } from '../stores/models.svelte';
import { nav } from '../stores/nav.svelte';
import { settings } from '../stores/settings.svelte';
import StartScreen from './StartScreen.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

let modelList = [modelFixture({ id: 'big' }), modelFixture({ id: 'small', name: 'Small Model' })];

beforeEach(() => {
  resetAll();
  settings.info = infoFixture({ firstRun: true });
  handlers.models_list = () => modelList;
  handlers.pairs_list = () => [pairFixture()];
  handlers.pair_current = () => null;
  handlers.models_recommend = () => recommendationFixture();
});

describe('First run', () => {
  it('offers "Load and start" for a ready pair and goes to chat', async () => {
    modelList = [modelFixture({ id: 'big' }), modelFixture({ id: 'small', name: 'Small Model' })];
    await models.refresh();
    const loaded = deferred<unknown>();
    handlers.pair_load = () => loaded.promise;
    render(StartScreen);
    expect(screen.getByTestId('start-load').textContent).toContain('Big Model');
    await fireEvent.click(screen.getByTestId('load-and-start'));
    await settle();
    expect(callsOf('pair_load')[0]).toMatchObject({ target: 'big', draft: 'small' });
    channelOf<LoadEvent>('pair_load')({ type: 'loading', which: 'target', fraction: 0.5 });
    await settle();
    expect(screen.getByTestId('load-progress').getAttribute('aria-valuenow')).toBe('25');
    loaded.resolve({ target: 'big', draft: 'small', drafter: 'auto', memoryBytes: 1, targetDevice: 'cpu', draftDevice: 'cpu', deviceNote: null });
    await settle();
    expect(nav.screen).toBe('chat');
  });

  it('shows the recommendation and downloads it in one click', async () => {
    modelList = [
      modelFixture({ id: 'big', status: 'not_downloaded', downloadedBytes: 0 }),
      modelFixture({ id: 'small', name: 'Small Model', status: 'ready' }),
    ];
    await models.refresh();
    const dl = deferred<{ path: string }>();
    handlers.model_download = () => dl.promise;
    handlers.pair_load = () => ({ target: 'big', draft: 'small', drafter: 'auto', memoryBytes: 1, targetDevice: 'cpu', draftDevice: 'cpu', deviceNote: null });
    render(StartScreen);
    await settle();
    expect(screen.getByTestId('recommend-reason').textContent).toBe('It fits in memory and is fast on this computer.');
    await fireEvent.click(screen.getByTestId('download-recommended'));
    await settle();
    expect(callsOf('model_download').map((a) => a.id)).toEqual(['big']);
    const send = channelOf<DownloadEvent>('model_download');
    send({ type: 'started', id: 'big', totalBytes: 1e9, resumedFromBytes: 0 });
    send({ type: 'progress', id: 'big', doneBytes: 5e8, totalBytes: 1e9, bytesPerSecond: 1e7, etaSeconds: 50 });
    await settle();
    // half of the big model, the small one already there: 1.5 of 2 GB
    expect(screen.getByTestId('start-progress').getAttribute('aria-valuenow')).toBe('75');
    modelList = [modelFixture({ id: 'big' }), modelFixture({ id: 'small', name: 'Small Model' })];
    dl.resolve({ path: '/m/big.gguf' });
    await settle(15);
    expect(callsOf('pair_load')).toHaveLength(1);
    expect(nav.screen).toBe('chat');
  });

  it('explains how to import a file when the download fails for lack of network', async () => {
    modelList = [
      modelFixture({ id: 'big', status: 'not_downloaded', downloadedBytes: 0 }),
      modelFixture({ id: 'small', status: 'not_downloaded', downloadedBytes: 0 }),
    ];
    await models.refresh();
    handlers.model_download = () => Promise.reject({ code: 'download_failed', message: 'Could not reach the download server.' });
    handlers['plugin:dialog|open'] = () => '/home/me/big.gguf';
    handlers.model_import = () => modelFixture({ id: 'mine', source: 'imported' });
    render(StartScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('download-recommended'));
    await settle(10);
    const notice = screen.getByTestId('error-notice');
    expect(notice.dataset.code).toBe('download_failed');
    expect(screen.getByTestId('error-import-help').textContent).toContain('import');
    await fireEvent.click(screen.getByTestId('error-import'));
    await settle(10);
    expect(callsOf('plugin:dialog|open')[0]).toMatchObject({
      options: { filters: [{ name: 'GGUF', extensions: ['gguf'] }] },
    });
    expect(callsOf('model_import')).toEqual([{ path: '/home/me/big.gguf' }]);
  });

  it('says how much disk space is needed when the disk is full', async () => {
    modelList = [modelFixture({ id: 'big', status: 'not_downloaded' }), modelFixture({ id: 'small' })];
    await models.refresh();
    handlers.model_download = () => Promise.reject({ code: 'disk_full', message: 'The disk is full.' });
    render(StartScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('download-recommended'));
    await settle(10);
    expect(screen.getByTestId('error-disk').textContent).toContain('1.4 GB');
  });
});
