// Documents: list, the open draft, revisions, instructions streamed into the text.
import * as api from '../api/backend';
import { toAppError } from '../api/errors';
import type { AppError, DocInstruction, Document, DocumentRevision } from '../api/types';
import { normaliseSelection, previewParts, type PreviewParts } from '../logic/docs';
import { emptyStream, reduceStream, type StreamState } from '../logic/stream';
import { settings } from './settings.svelte';
import { now } from './clock';

export interface Draft {
  id: number | null;
  title: string;
  body: string;
}

class DocumentsStore {
  list = $state<Document[]>([]);
  draft = $state<Draft | null>(null);
  dirty = $state(false);
  revisions = $state<DocumentRevision[]>([]);
  // Raw: the reducer returns a new state per step, so deep proxies over every span would
  // only add work to each streamed token.
  live = $state.raw<StreamState | null>(null);
  preview = $state<PreviewParts | null>(null);
  instruction = $state<DocInstruction | null>(null);
  exportText = $state<string | null>(null);
  error = $state<AppError | null>(null);

  async loadList(): Promise<void> {
    try {
      this.list = await api.documentsList();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  newDraft(): void {
    this.draft = { id: null, title: '', body: '' };
    this.dirty = false;
    this.revisions = [];
    this.exportText = null;
  }

  async open(id: number): Promise<void> {
    try {
      const doc = await api.documentGet(id);
      this.draft = { id: doc.id, title: doc.title, body: doc.body };
      this.dirty = false;
      this.exportText = null;
      this.error = null;
      await this.loadRevisions();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  edit(patch: Partial<Pick<Draft, 'title' | 'body'>>): void {
    if (!this.draft) return;
    this.draft = { ...this.draft, ...patch };
    this.dirty = true;
  }

  private adopt(doc: Document): void {
    this.draft = { id: doc.id, title: doc.title, body: doc.body };
    this.dirty = false;
    this.list = [doc, ...this.list.filter((d) => d.id !== doc.id)];
  }

  async save(): Promise<Document | null> {
    const d = this.draft;
    if (!d) return null;
    try {
      const doc = await api.documentSave(d.id, d.title, d.body);
      this.adopt(doc);
      this.error = null;
      await this.loadRevisions();
      return doc;
    } catch (e) {
      this.error = toAppError(e);
      return null;
    }
  }

  async loadRevisions(): Promise<void> {
    const id = this.draft?.id;
    if (id === null || id === undefined) {
      this.revisions = [];
      return;
    }
    try {
      this.revisions = await api.documentRevisions(id);
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async restore(rev: DocumentRevision): Promise<void> {
    if (!this.draft || this.draft.id === null) return;
    this.draft = { ...this.draft, body: rev.body };
    this.dirty = true;
    await this.save();
  }

  async remove(id: number): Promise<void> {
    try {
      await api.documentDelete(id);
      this.list = this.list.filter((d) => d.id !== id);
      if (this.draft?.id === id) {
        this.draft = null;
        this.revisions = [];
      }
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  /** Run an instruction; the answer streams into the preview, then the saved revision replaces the text. */
  async instruct(instruction: DocInstruction, start: number | null, end: number | null): Promise<void> {
    if (!this.draft || this.live) return;
    if (this.draft.id === null || this.dirty) {
      const saved = await this.save();
      if (!saved) return;
    }
    const draft = this.draft;
    if (!draft || draft.id === null) return;
    const sel = normaliseSelection(draft.body, start, end);
    const useSel = instruction === 'rewrite' || instruction === 'grammar';
    this.preview = previewParts(draft.body, instruction, sel.start, sel.end);
    this.instruction = instruction;
    this.live = emptyStream();
    this.error = null;
    try {
      const doc = await api.documentInstruct(
        draft.id,
        instruction,
        useSel ? sel.start : null,
        useSel ? sel.end : null,
        (ev) => {
          this.live = reduceStream(this.live ?? emptyStream(), ev, {
            now: now(),
            keepRejected: settings.keepRejected,
          });
        },
      );
      this.adopt(doc);
      await this.loadRevisions();
    } catch (e) {
      const err = toAppError(e);
      if (err.code !== 'cancelled') this.error = err;
      else if (draft.id !== null) await this.open(draft.id);
    } finally {
      this.live = null;
      this.preview = null;
      this.instruction = null;
    }
  }

  async stop(): Promise<void> {
    try {
      await api.generationStop();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async exportMarkdown(): Promise<string | null> {
    const id = this.draft?.id;
    if (id === null || id === undefined) return null;
    try {
      this.exportText = await api.documentExportMarkdown(id);
      return this.exportText;
    } catch (e) {
      this.error = toAppError(e);
      return null;
    }
  }

  reset(): void {
    this.list = [];
    this.draft = null;
    this.dirty = false;
    this.revisions = [];
    this.live = null;
    this.preview = null;
    this.instruction = null;
    this.exportText = null;
    this.error = null;
  }
}

export const documents = new DocumentsStore();
