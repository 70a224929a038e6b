import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import type { GenEvent, Message } from '../api/types';
import { callsOf, channelOf, deferred, handlers, invoke } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { settingsFixture, statsFixture } from '../../test/fixtures';
import { chat } from '../stores/chat.svelte';
import { nav } from '../stores/nav.svelte';
import { settings } from '../stores/settings.svelte';
import Chat from './Chat.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

const msg = (over: Partial<Message>): Message => ({
  id: 1,
  conversationId: 5,
  role: 'user',
  text: 'hi',
  status: 'complete',
  stats: null,
  pair: null,
  createdAt: 0,
  ...over,
});

let stored: Message[] = [];

beforeEach(() => {
  resetAll();
  stored = [];
  handlers.conversations_list = () => [{ id: 5, title: 'First', createdAt: 0, updatedAt: 0 }];
  handlers.conversation_messages = () => stored;
  handlers.conversation_create = (a) => ({ id: 5, title: a.title, createdAt: 0, updatedAt: 0 });
  handlers.generation_stop = () => null;
});

function step(accepted: string[], correction: string, rejected: string[]): GenEvent {
  return { type: 'step', accepted, correction, rejected, drafter: 'model', draftMs: 1, verifyMs: 2 };
}

describe('Chat composer', () => {
  it('sends on Enter, streams coloured tokens, then shows the stored answer as Markdown', async () => {
    const answer = deferred<Message>();
    handlers.chat_send = () => answer.promise;
    render(Chat);

    const box = screen.getByTestId('composer');
    await fireEvent.input(box, { target: { value: 'Tell me a joke' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await settle();

    expect(callsOf('conversation_create')).toEqual([{ title: 'Tell me a joke' }]);
    const args = callsOf('chat_send')[0];
    expect(args.conversationId).toBe(5);
    expect(args.text).toBe('Tell me a joke');
    expect((box as HTMLTextAreaElement).value).toBe('');

    const send = channelOf<GenEvent>('chat_send');
    send({ type: 'prefill', promptTokens: 4, ms: 10 });
    send(step(['Why', ' did'], ' the', [' a']));
    await settle();

    const live = screen.getAllByTestId('message').find((m) => m.dataset.live === 'true')!;
    const tokens = within(live).getAllByTestId('token');
    expect(tokens.map((t) => [t.dataset.origin, t.textContent])).toEqual([
      ['accepted', 'Why'],
      ['accepted', ' did'],
      ['rejected', ' a'],
      ['target', ' the'],
    ]);
    expect(within(live).getByTestId('stats-line')).toBeTruthy();
    expect(screen.getByTestId('stop')).toBeTruthy();

    stored = [
      msg({ id: 1, text: 'Tell me a joke' }),
      msg({ id: 2, role: 'assistant', text: 'Why did **the** chicken…', stats: statsFixture() }),
    ];
    send({ type: 'done', stats: statsFixture(), reason: 'eos', messageId: 2 });
    answer.resolve(stored[1]);
    await settle(10);

    expect(screen.queryAllByTestId('message').some((m) => m.dataset.live === 'true')).toBe(false);
    const bubbles = screen.getAllByTestId('message');
    expect(bubbles).toHaveLength(2);
    expect(within(bubbles[1]).getByText('the').tagName).toBe('STRONG');
    expect(within(bubbles[1]).getByTestId('stat-speed').textContent).toBe('20.0 tokens/s');
    expect(within(bubbles[1]).getByTestId('stat-acceptance').textContent).toContain('75%');
  });

  it('makes a new line on Shift+Enter instead of sending', async () => {
    handlers.chat_send = () => new Promise(() => {});
    render(Chat);
    const box = screen.getByTestId('composer');
    await fireEvent.input(box, { target: { value: 'line one' } });
    await fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    await settle();
    expect(callsOf('chat_send')).toHaveLength(0);
  });

  it('streams token pieces as text, never as HTML', async () => {
    handlers.chat_send = () => new Promise(() => {});
    render(Chat);
    await chat.open(5);
    void chat.send('x');
    await settle();
    channelOf<GenEvent>('chat_send')(step(['<img src=x onerror=alert(1)>'], '<b>b</b>', []));
    await settle();
    const list = screen.getByTestId('message-list');
    expect(list.querySelector('img')).toBeNull();
    expect(list.querySelector('b')).toBeNull();
    expect(list.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('keeps struck guesses when keepRejected is on', async () => {
    settings.value = settingsFixture({ keepRejected: true });
    handlers.chat_send = () => new Promise(() => {});
    render(Chat);
    await chat.open(5);
    void chat.send('x');
    await settle();
    const send = channelOf<GenEvent>('chat_send');
    send(step(['a'], 'b', ['x']));
    send(step(['c'], 'd', ['y']));
    await settle();
    const rejected = screen.getAllByTestId('token').filter((t) => t.dataset.origin === 'rejected');
    expect(rejected.map((t) => t.textContent)).toEqual(['x', 'y']);
    expect(rejected.every((t) => !t.classList.contains('fade'))).toBe(true);
  });

  it('calls generation_stop when Stop is pressed', async () => {
    handlers.chat_send = () => new Promise(() => {});
    render(Chat);
    const box = screen.getByTestId('composer');
    await fireEvent.input(box, { target: { value: 'hello' } });
    await fireEvent.click(screen.getByTestId('send'));
    await settle();
    await fireEvent.click(screen.getByTestId('stop'));
    await settle();
    expect(invoke).toHaveBeenCalledWith('generation_stop', {});
  });

  it('offers to go to Models when a model is missing', async () => {
    handlers.chat_send = () => Promise.reject({ code: 'model_missing', message: 'The large model is not downloaded.' });
    render(Chat);
    const box = screen.getByTestId('composer');
    await fireEvent.input(box, { target: { value: 'hello' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await settle(10);
    const notice = screen.getByTestId('error-notice');
    expect(notice.dataset.code).toBe('model_missing');
    expect(notice.textContent).toContain('The large model is not downloaded.');
    await fireEvent.click(screen.getByTestId('error-go-models'));
    expect(nav.screen).toBe('models');
    // the text is given back so nothing is lost
    expect((screen.getByTestId('composer') as HTMLTextAreaElement).value).toBe('hello');
  });

  it('says an answer is still being written on busy, with a Stop button', async () => {
    handlers.chat_send = () => Promise.reject({ code: 'busy', message: 'Busy.' });
    render(Chat);
    const box = screen.getByTestId('composer');
    await fireEvent.input(box, { target: { value: 'hello' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await settle(10);
    const notice = screen.getByTestId('error-notice');
    expect(notice.textContent).toContain('An answer is still being written');
    await fireEvent.click(screen.getByTestId('error-stop'));
    expect(invoke).toHaveBeenCalledWith('generation_stop', {});
  });

  it('treats a stop (cancelled) as no error', async () => {
    handlers.chat_send = () => Promise.reject({ code: 'cancelled', message: 'Stopped.' });
    render(Chat);
    await chat.open(5);
    await chat.send('hello');
    await settle();
    expect(screen.queryByTestId('error-notice')).toBeNull();
  });
});

describe('Chat messages', () => {
  beforeEach(() => {
    stored = [
      msg({ id: 1, text: 'Question' }),
      msg({ id: 2, role: 'assistant', text: 'Answer', stats: statsFixture() }),
    ];
  });

  it('regenerates the last answer', async () => {
    handlers.chat_regenerate = () => new Promise(() => {});
    render(Chat);
    await chat.open(5);
    await settle();
    await fireEvent.click(screen.getByTestId('regenerate'));
    await settle();
    expect(callsOf('chat_regenerate')[0].conversationId).toBe(5);
    // the old answer is hidden while the new one is written
    expect(screen.queryByText('Answer')).toBeNull();
  });

  it('edits a message and sends it again', async () => {
    handlers.chat_edit_resend = () => new Promise(() => {});
    render(Chat);
    await chat.open(5);
    await settle();
    await fireEvent.click(screen.getByTestId('edit'));
    const input = screen.getByTestId('edit-input');
    await fireEvent.input(input, { target: { value: 'Better question' } });
    await fireEvent.click(screen.getByTestId('edit-send'));
    await settle();
    const args = callsOf('chat_edit_resend')[0];
    expect(args.messageId).toBe(1);
    expect(args.text).toBe('Better question');
    expect(screen.getByText('Better question')).toBeTruthy();
  });

  it('shows speculation colours from the stored trace on request', async () => {
    handlers.message_trace = () => [
      { accepted: ['An'], correction: 'swer', rejected: ['y'], drafter: 'model', draftMs: 1, verifyMs: 2 },
    ];
    render(Chat);
    await chat.open(5);
    await settle();
    await fireEvent.click(screen.getByTestId('toggle-colours'));
    await settle();
    expect(callsOf('message_trace')).toEqual([{ messageId: 2 }]);
    const origins = screen.getAllByTestId('token').map((t) => t.dataset.origin);
    expect(origins).toEqual(['accepted', 'rejected', 'target']);
  });

  it('opens the inspector for a stored answer', async () => {
    render(Chat);
    await chat.open(5);
    await settle();
    await fireEvent.click(screen.getByTestId('inspect'));
    expect(nav.screen).toBe('inspector');
    expect(nav.inspect).toEqual({ kind: 'message', messageId: 2 });
  });

  it('shows the legend in plain words', () => {
    render(Chat);
    const legend = screen.getByTestId('legend');
    expect(legend.textContent).toContain('guessed ahead by the small model and accepted');
    expect(legend.textContent).toContain('written by the large model');
    expect(legend.textContent).toContain('guess thrown away');
  });
});

describe('Conversation list', () => {
  beforeEach(async () => {
    await chat.loadConversations();
  });

  it('deletes a conversation only after confirming', async () => {
    handlers.conversation_delete = () => null;
    render(Chat);
    await fireEvent.click(screen.getByTestId('delete-conversation'));
    expect(callsOf('conversation_delete')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('delete-conversation-no'));
    expect(callsOf('conversation_delete')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('delete-conversation'));
    await fireEvent.click(screen.getByTestId('delete-conversation-yes'));
    await settle();
    expect(callsOf('conversation_delete')).toEqual([{ id: 5 }]);
    expect(screen.queryAllByTestId('conversation-row')).toHaveLength(0);
  });

  it('renames a conversation', async () => {
    handlers.conversation_rename = () => null;
    render(Chat);
    await fireEvent.click(screen.getByTestId('rename'));
    await fireEvent.input(screen.getByTestId('rename-input'), { target: { value: 'Jokes' } });
    await fireEvent.click(screen.getByTestId('rename-save'));
    await settle();
    expect(callsOf('conversation_rename')).toEqual([{ id: 5, title: 'Jokes' }]);
    expect(screen.getByTestId('conversation-open').textContent).toBe('Jokes');
  });

  it('searches and opens a hit', async () => {
    handlers.search = () => [
      { kind: 'message', conversationId: 5, messageId: 1, snippet: 'a joke about cats' },
      { kind: 'document', documentId: 9, snippet: 'cats in a document' },
    ];
    render(Chat);
    const box = screen.getByTestId('search');
    await fireEvent.input(box, { target: { value: 'cats' } });
    await fireEvent.submit(box.closest('form')!);
    await settle();
    expect(callsOf('search')).toEqual([{ text: 'cats' }]);
    const hits = screen.getAllByTestId('search-hit');
    expect(hits).toHaveLength(2);
    await fireEvent.click(hits[0]);
    await settle();
    expect(callsOf('conversation_messages').at(-1)).toEqual({ id: 5 });
    await fireEvent.click(hits[1]);
    expect(nav.screen).toBe('documents');
    expect(nav.openDocumentId).toBe(9);
  });
});

describe('New chat', () => {
  it('clears the view without storing an empty conversation', async () => {
    stored = [msg({ id: 1, text: 'Old question' })];
    await chat.loadConversations();
    render(Chat);
    await chat.open(5);
    await settle();
    expect(screen.getByText('Old question')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('new-conversation'));
    await settle();
    expect(screen.queryByText('Old question')).toBeNull();
    expect(chat.currentId).toBeNull();
    expect(callsOf('conversation_create')).toHaveLength(0);
  });
});
