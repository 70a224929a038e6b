// Fresh stores and shell answers before each component test.
import { chat } from '../lib/stores/chat.svelte';
import { documents } from '../lib/stores/documents.svelte';
import { models } from '../lib/stores/models.svelte';
import { nav } from '../lib/stores/nav.svelte';
import { race } from '../lib/stores/race.svelte';
import { settings } from '../lib/stores/settings.svelte';
import { resetTauri } from './tauri';

export function resetAll(): void {
  resetTauri();
  chat.reset();
  documents.reset();
  models.reset();
  nav.reset();
  race.reset();
  settings.reset();
}

/** Let pending promise callbacks and Svelte updates run. */
export async function settle(times = 5): Promise<void> {
  const { tick } = await import('svelte');
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
    await tick();
  }
}
