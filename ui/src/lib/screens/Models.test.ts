import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import type { DownloadEvent, ModelEntry } from '../api/types';
import { callsOf, channelOf, deferred, handlers, invoke } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { modelFixture, pairFixture, recommendationFixture } from '../../test/fixtures';
import { nav } from '../stores/nav.svelte';
import Models from './Models.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

let list: ModelEntry[];

beforeEach(() => {
  resetAll();
  list = [
    modelFixture({ id: 'big', name: 'Big Model', sizeBytes: 1_100_000_000, minRamBytes: 2_000_000_000 }),
    modelFixture({ id: 'small', name: 'Small Model', status: 'not_downloaded', downloadedBytes: 0, sizeBytes: 400_000_000 }),
    modelFixture({ id: 'gated', name: 'Gated Model', gated: true, status: 'partial', downloadedBytes: 300_000_000, sizeBytes: 600_000_000 }),
  ];
  handlers.models_list = () => list;
  handlers.pairs_list = () => [pairFixture()];
  handlers.pair_current = () => null;
  handlers.models_recommend = () =>
    recommendationFixture({
      others: [{ ...pairFixture({ target: 'gated', isDefault: false }), verdict: 'too_big', reason: 'Needs 32 GB.' }],
    });
});

const row = (id: string) => screen.getAllByTestId('model-row').find((r) => r.dataset.modelId === id)!;

describe('Models', () => {
  it('lists models with status and sizes in GB, and the recommendation with its reason', async () => {
    render(Models);
    await settle(10);
    expect(screen.getAllByTestId('model-row')).toHaveLength(3);
    expect(within(row('big')).getByTestId('model-status').textContent).toBe('ready');
    expect(row('big').textContent).toContain('1.1 GB');
    expect(row('big').textContent).toContain('2.0 GB');
    expect(within(row('small')).getByTestId('model-status').textContent).toBe('not downloaded');
    expect(row('gated').textContent).toContain('needs a Hugging Face token');
    expect(screen.getByTestId('recommendation').textContent).toContain('It fits in memory');
    expect(screen.getByTestId('recommendation').textContent).toContain('Needs 32 GB.');
    expect(screen.getByTestId('pair-row').textContent).toContain('1.5 GB');
  });

  it('downloads with a progress bar, pauses, resumes and cancels', async () => {
    const first = deferred<{ path: string }>();
    handlers.model_download = () => first.promise;
    handlers.model_download_pause = () => null;
    handlers.model_download_cancel = () => null;
    render(Models);
    await settle(10);

    await fireEvent.click(within(row('small')).getByTestId('download'));
    await settle();
    expect(callsOf('model_download')[0].id).toBe('small');
    const send = channelOf<DownloadEvent>('model_download');
    send({ type: 'started', id: 'small', totalBytes: 400_000_000, resumedFromBytes: 0 });
    send({ type: 'progress', id: 'small', doneBytes: 100_000_000, totalBytes: 400_000_000, bytesPerSecond: 5_000_000, etaSeconds: 60 });
    await settle();
    expect(within(row('small')).getByTestId('download-bar').getAttribute('aria-valuenow')).toBe('25');
    expect(row('small').textContent).toContain('1 min 00 s');

    await fireEvent.click(within(row('small')).getByTestId('download-pause'));
    expect(invoke).toHaveBeenCalledWith('model_download_pause', { id: 'small' });
    send({ type: 'paused', id: 'small', doneBytes: 100_000_000, totalBytes: 400_000_000 });
    list = list.map((m) => (m.id === 'small' ? { ...m, status: 'partial', downloadedBytes: 100_000_000 } : m));
    first.reject({ code: 'cancelled', message: 'Paused.' });
    await settle(10);
    expect(screen.queryByTestId('error-notice')).toBeNull();

    handlers.model_download = () => new Promise(() => {});
    await fireEvent.click(within(row('small')).getByTestId('download-resume'));
    await settle();
    expect(callsOf('model_download').map((a) => a.id)).toEqual(['small', 'small']);

    await fireEvent.click(within(row('small')).getByTestId('download-cancel'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('model_download_cancel', { id: 'small' });
  });

  it('asks for a token in Settings when a gated model needs one', async () => {
    handlers.model_download = () => Promise.reject({ code: 'needs_token', message: 'This model needs a token.' });
    render(Models);
    await settle(10);
    await fireEvent.click(within(row('gated')).getByTestId('download-resume'));
    await settle(10);
    const notice = within(row('gated')).getByTestId('error-notice');
    expect(notice.dataset.code).toBe('needs_token');
    await fireEvent.click(within(notice).getByTestId('error-go-settings'));
    expect(nav.screen).toBe('settings');
  });

  it('checks a pair and shows the result in plain words', async () => {
    handlers.pair_check = () => ({ compatible: false, reasons: ['The two models use different vocabularies.'] });
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('pair-check'));
    await settle();
    expect(callsOf('pair_check')).toEqual([{ draft: 'small', target: 'big' }]);
    const result = screen.getByTestId('pair-check-result');
    expect(result.dataset.compatible).toBe('false');
    expect(result.textContent).toContain('cannot work together');
    expect(result.textContent).toContain('different vocabularies');
  });

  it('loads a pair with progress, shows its memory, and unloads it', async () => {
    list = list.map((m) => ({ ...m, status: 'ready' }));
    const load = deferred<unknown>();
    handlers.pair_load = () => load.promise;
    handlers.pair_unload = () => null;
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('pair-load'));
    await settle();
    channelOf<{ type: 'loading'; which: 'target'; fraction: number }>('pair_load')({ type: 'loading', which: 'target', fraction: 0.4 });
    await settle();
    expect(screen.getByTestId('load-target').getAttribute('aria-valuenow')).toBe('40');
    load.resolve({ target: 'big', draft: 'small', drafter: 'auto', memoryBytes: 1_600_000_000, targetDevice: 'cpu', draftDevice: 'cpu', deviceNote: null });
    await settle();
    expect(nav.screen).toBe('chat');
    expect(screen.getByTestId('loaded-pair').textContent).toContain('1.6 GB');
    expect(screen.getByTestId('loaded-pair').textContent).toContain('runs on the processor');
    expect(screen.queryByTestId('device-note')).toBeNull();
    await fireEvent.click(screen.getByTestId('unload'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('pair_unload', {});
    expect(screen.getByTestId('loaded-pair').textContent).toContain('Nothing is loaded');
  });

  it('says where each model runs and why the automatic choice kept one off the GPU', async () => {
    list = list.map((m) => ({ ...m, status: 'ready' }));
    handlers.pair_load = () => ({
      target: 'big',
      draft: 'small',
      drafter: 'auto',
      memoryBytes: 1e9,
      targetDevice: 'cpu',
      draftDevice: 'cuda:0',
      deviceNote: 'The large model runs on the processor: it needs about 5.0 GB on GeForce, and 3.0 GB is free.',
    });
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('pair-load'));
    await settle();
    expect(screen.getByTestId('loaded-pair').textContent).toContain('large model on the processor, small model on CUDA 0');
    expect(screen.getByTestId('device-note').textContent).toContain('3.0 GB is free');
  });

  it('shows the reasons when loading fails because the pair is incompatible', async () => {
    list = list.map((m) => ({ ...m, status: 'ready' }));
    handlers.pair_load = () => Promise.reject({ code: 'pair_incompatible', message: 'These models do not match.' });
    handlers.pair_check = () => ({ compatible: false, reasons: ['Different tokenizers.'] });
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('pair-load'));
    await settle(10);
    expect(screen.getByTestId('error-reasons').textContent).toContain('Different tokenizers.');
  });

  it('imports a GGUF file chosen in the file dialog', async () => {
    handlers['plugin:dialog|open'] = () => '/data/my-model.gguf';
    handlers.model_import = () => modelFixture({ id: 'mine', source: 'imported' });
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('import'));
    await settle(10);
    expect(callsOf('model_import')).toEqual([{ path: '/data/my-model.gguf' }]);
  });

  it('does nothing when the file dialog is closed', async () => {
    handlers['plugin:dialog|open'] = () => null;
    render(Models);
    await settle(10);
    await fireEvent.click(screen.getByTestId('import'));
    await settle(10);
    expect(callsOf('model_import')).toHaveLength(0);
  });

  it('removes a model after confirming', async () => {
    handlers.model_remove = () => null;
    render(Models);
    await settle(10);
    await fireEvent.click(within(row('big')).getByTestId('model-remove'));
    await fireEvent.click(within(row('big')).getByTestId('model-remove-yes'));
    await settle();
    expect(callsOf('model_remove')).toEqual([{ id: 'big' }]);
  });
});
