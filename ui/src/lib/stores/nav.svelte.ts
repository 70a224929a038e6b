// Which screen is showing, and what the inspector looks at.
export type Screen = 'start' | 'chat' | 'inspector' | 'race' | 'documents' | 'models' | 'settings';

export type InspectTarget = { kind: 'live' } | { kind: 'message'; messageId: number } | null;

class NavStore {
  screen = $state<Screen>('start');
  inspect = $state<InspectTarget>(null);
  /** a document to open when the Documents screen shows (e.g. from a search hit) */
  openDocumentId = $state<number | null>(null);

  go(screen: Screen): void {
    this.screen = screen;
  }

  inspectMessage(messageId: number): void {
    this.inspect = { kind: 'message', messageId };
    this.screen = 'inspector';
  }

  inspectLive(): void {
    this.inspect = { kind: 'live' };
    this.screen = 'inspector';
  }

  openDocument(id: number): void {
    this.openDocumentId = id;
    this.screen = 'documents';
  }

  reset(): void {
    this.screen = 'start';
    this.inspect = null;
    this.openDocumentId = null;
  }
}

export const nav = new NavStore();
