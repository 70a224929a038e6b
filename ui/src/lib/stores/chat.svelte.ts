// Conversations, messages and the answer being written.
import * as api from '../api/backend';
import { toAppError } from '../api/errors';
import type { AppError, Conversation, GenEvent, Message, SearchHit } from '../api/types';
import { emptyStream, reduceStream, type StreamState } from '../logic/stream';
import { settings } from './settings.svelte';
import { now } from './clock';

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 48 ? `${line.slice(0, 47)}…` : line;
}

class ChatStore {
  conversations = $state<Conversation[]>([]);
  currentId = $state<number | null>(null);
  messages = $state<Message[]>([]);
  /** the answer being written, as coloured spans */
  // Raw: the reducer returns a new state per step, so deep proxies over every span would
  // only add work to each streamed token.
  live = $state.raw<StreamState | null>(null);
  generating = $state(false);
  /** the user's text shown while its answer is written */
  pendingUser = $state<string | null>(null);
  /** messages from this index on are hidden while they are being replaced */
  hideFrom = $state<number | null>(null);
  error = $state<AppError | null>(null);
  hits = $state<SearchHit[] | null>(null);
  searchText = $state('');
  /** id of the last answer that finished streaming (from its done event) */
  lastMessageId = $state<number | null>(null);

  async loadConversations(): Promise<void> {
    try {
      this.conversations = await api.conversationsList();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async open(id: number): Promise<void> {
    this.currentId = id;
    try {
      this.messages = await api.conversationMessages(id);
      this.error = null;
    } catch (e) {
      this.messages = [];
      this.error = toAppError(e);
    }
  }

  /** Start a fresh chat; it is stored when its first message is sent. */
  startNew(): void {
    if (this.generating) return;
    this.currentId = null;
    this.messages = [];
    this.error = null;
  }

  async newConversation(title = ''): Promise<Conversation | null> {
    try {
      const c = await api.conversationCreate(title);
      this.conversations = [c, ...this.conversations.filter((x) => x.id !== c.id)];
      this.currentId = c.id;
      this.messages = [];
      this.error = null;
      return c;
    } catch (e) {
      this.error = toAppError(e);
      return null;
    }
  }

  async rename(id: number, title: string): Promise<void> {
    try {
      await api.conversationRename(id, title);
      this.conversations = this.conversations.map((c) => (c.id === id ? { ...c, title } : c));
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async remove(id: number): Promise<void> {
    try {
      await api.conversationDelete(id);
      this.conversations = this.conversations.filter((c) => c.id !== id);
      if (this.currentId === id) {
        this.currentId = null;
        this.messages = [];
      }
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async search(text: string): Promise<void> {
    this.searchText = text;
    if (!text.trim()) {
      this.hits = null;
      return;
    }
    try {
      this.hits = await api.search(text.trim());
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  private onEvent = (ev: GenEvent): void => {
    const state = this.live ?? emptyStream();
    this.live = reduceStream(state, ev, { now: now(), keepRejected: settings.keepRejected });
  };

  /** Run one generation call; true when it finished (or was stopped) without an error. */
  private async generate(run: (onEvent: (ev: GenEvent) => void) => Promise<Message>): Promise<boolean> {
    this.live = emptyStream();
    this.generating = true;
    this.error = null;
    let ok = true;
    try {
      await run(this.onEvent);
    } catch (e) {
      const err = toAppError(e);
      if (err.code !== 'cancelled') {
        this.error = err;
        ok = false;
      }
    } finally {
      this.generating = false;
      const doneId = this.live?.done?.messageId ?? null;
      if (doneId !== null) this.lastMessageId = doneId;
      const id = this.currentId;
      if (id !== null) {
        try {
          this.messages = await api.conversationMessages(id);
        } catch {
          /* keep what is shown */
        }
      }
      this.live = null;
      this.pendingUser = null;
      this.hideFrom = null;
      void this.loadConversations();
    }
    return ok;
  }

  async send(text: string): Promise<boolean> {
    const body = text.trim();
    if (!body || this.generating) return false;
    let id = this.currentId;
    if (id === null) {
      const c = await this.newConversation(titleFrom(body));
      if (!c) return false;
      id = c.id;
    }
    this.pendingUser = body;
    const convId = id;
    return this.generate((onEvent) => api.chatSend(convId, body, onEvent));
  }

  async regenerate(): Promise<boolean> {
    const id = this.currentId;
    if (id === null || this.generating) return false;
    let last = -1;
    this.messages.forEach((m, i) => {
      if (m.role === 'assistant') last = i;
    });
    this.hideFrom = last >= 0 && last === this.messages.length - 1 ? last : null;
    return this.generate((onEvent) => api.chatRegenerate(id, onEvent));
  }

  async editResend(messageId: number, text: string): Promise<boolean> {
    const body = text.trim();
    if (!body || this.generating) return false;
    const index = this.messages.findIndex((m) => m.id === messageId);
    this.hideFrom = index >= 0 ? index : null;
    this.pendingUser = body;
    return this.generate((onEvent) => api.chatEditResend(messageId, body, onEvent));
  }

  async stop(): Promise<void> {
    try {
      await api.generationStop();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  reset(): void {
    this.conversations = [];
    this.currentId = null;
    this.messages = [];
    this.live = null;
    this.generating = false;
    this.pendingUser = null;
    this.hideFrom = null;
    this.error = null;
    this.hits = null;
    this.searchText = '';
    this.lastMessageId = null;
  }
}

export const chat = new ChatStore();
