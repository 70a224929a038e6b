// Test double for '@tauri-apps/api/core' (used only through vi.mock in tests).
import { vi } from 'vitest';

type Handler = (args: Record<string, unknown>) => unknown;

/** Per-test answers, by command name. A missing one rejects like the shell would. */
export const handlers: Record<string, Handler> = {};

export const invoke = vi.fn(async (cmd: string, args: Record<string, unknown> = {}) => {
  const h = handlers[cmd];
  if (!h) throw { code: 'internal', message: `no answer for ${cmd}` };
  return await h(args);
});

export class Channel<T = unknown> {
  id = Math.floor(Math.random() * 1e9);
  onmessage: (message: T) => void = () => {};
  constructor(onmessage?: (message: T) => void) {
    if (onmessage) this.onmessage = onmessage;
  }
  toJSON(): string {
    return `__CHANNEL__:${this.id}`;
  }
}

export function resetTauri(): void {
  for (const k of Object.keys(handlers)) delete handlers[k];
  invoke.mockClear();
}

/** A promise with its resolve/reject exposed, for answers the test finishes later. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The channel handler passed under `name` in the most recent call of `cmd`. */
export function channelOf<T>(cmd: string, name = 'onEvent'): (ev: T) => void {
  const calls = invoke.mock.calls.filter((c) => c[0] === cmd);
  const last = calls[calls.length - 1];
  if (!last) throw new Error(`${cmd} was not called`);
  const ch = (last[1] as Record<string, unknown>)[name] as Channel<T>;
  return (ev: T) => ch.onmessage(ev);
}

export function callsOf(cmd: string): Record<string, unknown>[] {
  return invoke.mock.calls.filter((c) => c[0] === cmd).map((c) => (c[1] ?? {}) as Record<string, unknown>);
}
