import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import type { GenEvent, RaceResult } from '../api/types';
import { callsOf, channelOf, deferred, handlers, invoke } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { statsFixture } from '../../test/fixtures';
import { paneElapsed, reducePane } from '../stores/race.svelte';
import { emptyStream } from '../logic/stream';
import Race from './Race.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

beforeEach(() => resetAll());
afterEach(() => vi.useRealTimers());

const step = (accepted: string[], correction: string, drafter: 'model' | null): GenEvent => ({
  type: 'step',
  accepted,
  correction,
  rejected: [],
  drafter,
  draftMs: 1,
  verifyMs: 1,
});

describe('Race', () => {
  it('streams into two panes and ends with the result line', async () => {
    const result = deferred<RaceResult>();
    handlers.race_run = () => result.promise;
    render(Race);
    await fireEvent.input(screen.getByTestId('race-prompt'), { target: { value: 'Count to five' } });
    await fireEvent.click(screen.getByTestId('race-start'));
    await settle();
    expect(callsOf('race_run')[0].prompt).toBe('Count to five');

    const plain = channelOf<GenEvent>('race_run', 'onPlain');
    const spec = channelOf<GenEvent>('race_run', 'onSpeculative');
    plain(step([], 'One', null));
    spec(step(['One', ','], ' two', 'model'));
    await settle();
    const plainPane = screen.getByTestId('race-plain');
    const specPane = screen.getByTestId('race-speculative');
    expect(within(plainPane).getAllByTestId('token').map((t) => t.dataset.origin)).toEqual(['target']);
    expect(within(specPane).getAllByTestId('token').map((t) => t.dataset.origin)).toEqual(['accepted', 'accepted', 'target']);
    expect(screen.getByTestId('race-stop')).toBeTruthy();

    plain({ type: 'done', stats: statsFixture({ tokensPerSecond: 10 }), reason: 'eos', messageId: null });
    spec({ type: 'done', stats: statsFixture({ tokensPerSecond: 25 }), reason: 'eos', messageId: null });
    result.resolve({
      plain: statsFixture({ tokensPerSecond: 10 }),
      speculative: statsFixture({ tokensPerSecond: 25 }),
      identical: true,
    });
    await settle();
    const line = screen.getByTestId('race-result');
    expect(line.textContent).toContain('×2.50 faster');
    expect(screen.getByTestId('race-identical').textContent).toBe('Same text: yes');
    expect(screen.getByTestId('race-note').textContent).toBe(
      'The small model guessed 8 tokens and the large model accepted 6 of them (75%), 1.5 at a time on average.',
    );
    expect(screen.getByTestId('race-plain-rate').textContent).toBe('10.0 tokens/s');
    expect(screen.getByTestId('race-speculative-rate').textContent).toBe('25.0 tokens/s');
  });

  it('stops a running race with generation_stop', async () => {
    handlers.race_run = () => new Promise(() => {});
    handlers.generation_stop = () => null;
    render(Race);
    await fireEvent.input(screen.getByTestId('race-prompt'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('race-start'));
    await settle();
    await fireEvent.click(screen.getByTestId('race-stop'));
    expect(invoke).toHaveBeenCalledWith('generation_stop', {});
  });

  it('gives each pane its own clock that stops at its end', () => {
    let pane = { stream: emptyStream(), startedAt: null as number | null, endedAt: null as number | null };
    expect(paneElapsed(pane, 500)).toBe(0);
    pane = reducePane(pane, { type: 'prefill', promptTokens: 3, ms: 5 }, 1000);
    expect(paneElapsed(pane, 1600)).toBe(600);
    pane = reducePane(pane, { type: 'done', stats: statsFixture(), reason: 'eos', messageId: null }, 2500);
    expect(paneElapsed(pane, 9000)).toBe(1500);
  });

  it('shows a plain-language message when no pair is loaded', async () => {
    handlers.race_run = () => Promise.reject({ code: 'no_pair_loaded', message: 'Load a model pair first.' });
    render(Race);
    await fireEvent.input(screen.getByTestId('race-prompt'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('race-start'));
    await settle();
    expect(screen.getByTestId('error-notice').textContent).toContain('Load a model pair first.');
    expect(screen.getByTestId('error-go-models')).toBeTruthy();
  });
});
