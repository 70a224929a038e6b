import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import type { GenEvent, TraceStep } from '../api/types';
import { callsOf, channelOf, handlers } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { chat } from '../stores/chat.svelte';
import { nav } from '../stores/nav.svelte';
import Inspector from './Inspector.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

const trace: TraceStep[] = [
  { accepted: ['The', ' cat'], correction: ' sat', rejected: [' ran', ' off'], drafter: 'model', draftMs: 10, verifyMs: 30 },
  { accepted: [' on', ' the', ' mat', '.'], correction: '', rejected: [], drafter: 'model', draftMs: 20, verifyMs: 60 },
];

beforeEach(() => {
  resetAll();
  handlers.message_trace = () => trace;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Inspector', () => {
  it('asks what to inspect when nothing is chosen', () => {
    render(Inspector);
    expect(screen.getByTestId('inspector-empty')).toBeTruthy();
  });

  it('shows the step timeline of a stored answer', async () => {
    nav.inspectMessage(42);
    render(Inspector);
    await settle(10);
    expect(callsOf('message_trace')).toEqual([{ messageId: 42 }]);
    const steps = screen.getAllByTestId('timeline-step');
    expect(steps).toHaveLength(2);
    expect(steps[0].textContent).toContain('Large model disagreed at guess 3.');
    expect(steps[0].textContent).toContain('guessing 10.0 ms · checking 30.0 ms');
    expect(steps[0].querySelector('[data-origin="target"]')?.textContent).toBe('·sat');
    expect(steps[1].textContent).toContain('All guesses accepted.');
    expect(steps[1].textContent).toContain('Large model ended the answer.');
  });

  it('draws acceptance by draft position', async () => {
    nav.inspectMessage(42);
    render(Inspector);
    await settle(10);
    const bars = screen.getAllByTestId('acceptance-bar');
    expect(bars.map((b) => [b.dataset.position, b.dataset.fraction])).toEqual([
      ['1', '1.000'],
      ['2', '1.000'],
      ['3', '0.500'],
      ['4', '0.500'],
    ]);
    expect(screen.getByTestId('speed-line').getAttribute('points')?.split(' ')).toHaveLength(2);
  });

  it('replays the trace at its recorded pace, and four times faster', async () => {
    vi.useFakeTimers();
    nav.inspectMessage(42);
    render(Inspector);
    await vi.advanceTimersByTimeAsync(0);
    await settle(10);
    await fireEvent.click(screen.getByTestId('replay'));
    const out = () => screen.getByTestId('replay-output');
    const visible = () =>
      Array.from(out().querySelectorAll('[data-testid="token"]'))
        .filter((t) => (t as HTMLElement).dataset.origin !== 'rejected')
        .map((t) => t.textContent)
        .join('');
    expect(visible()).toBe('');
    await vi.advanceTimersByTimeAsync(39);
    expect(visible()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(visible()).toBe('The cat sat');
    await vi.advanceTimersByTimeAsync(80);
    expect(visible()).toBe('The cat sat on the mat.');

    await fireEvent.click(screen.getByTestId('replay-x4'));
    await fireEvent.click(screen.getByTestId('replay'));
    await vi.advanceTimersByTimeAsync(10);
    expect(visible()).toBe('The cat sat');
    await vi.advanceTimersByTimeAsync(20);
    expect(visible()).toBe('The cat sat on the mat.');
  });

  it('follows the live answer while it is written', async () => {
    handlers.conversation_create = () => ({ id: 1, title: 't', createdAt: 0, updatedAt: 0 });
    handlers.conversations_list = () => [];
    handlers.chat_send = () => new Promise(() => {});
    void chat.send('hello');
    await settle();
    nav.inspectLive();
    render(Inspector);
    channelOf<GenEvent>('chat_send')({ type: 'step', ...trace[0] });
    await settle();
    expect(screen.getAllByTestId('timeline-step')).toHaveLength(1);
    channelOf<GenEvent>('chat_send')({ type: 'step', ...trace[1] });
    await settle();
    expect(screen.getAllByTestId('timeline-step')).toHaveLength(2);
    expect(callsOf('message_trace')).toHaveLength(0);
  });
});
