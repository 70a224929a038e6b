import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import type { Document, GenEvent } from '../api/types';
import { callsOf, channelOf, deferred, handlers } from '../../test/tauri';
import { resetAll, settle } from '../../test/reset';
import { statsFixture } from '../../test/fixtures';
import { nav } from '../stores/nav.svelte';
import Documents from './Documents.svelte';

vi.mock('@tauri-apps/api/core', () => import('../../test/tauri'));

const doc = (over: Partial<Document> = {}): Document => ({ id: 3, title: 'Letter', body: 'Dear Sam, thanks a lot.', updatedAt: 1, ...over });

beforeEach(() => {
  resetAll();
  handlers.documents_list = () => [doc()];
  handlers.document_get = () => doc();
  handlers.document_revisions = () => [
    { revision: 1, title: 'Letter', body: 'Old text.', createdAt: Date.UTC(2026, 0, 2) },
  ];
  handlers.document_save = (a) => doc({ id: (a.id as number | null) ?? 4, title: a.title as string, body: a.body as string });
});

async function openLetter() {
  render(Documents);
  await settle();
  await fireEvent.click(screen.getByTestId('document-open'));
  await settle();
}

describe('Documents', () => {
  it('lists, opens and saves a document', async () => {
    await openLetter();
    const body = screen.getByTestId('doc-body') as HTMLTextAreaElement;
    expect(body.value).toBe('Dear Sam, thanks a lot.');
    expect((screen.getByTestId('doc-save') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(body, { target: { value: 'Dear Sam, thank you.' } });
    await fireEvent.click(screen.getByTestId('doc-save'));
    await settle();
    expect(callsOf('document_save').at(-1)).toEqual({ id: 3, title: 'Letter', body: 'Dear Sam, thank you.' });
  });

  it('creates a new document on first save', async () => {
    render(Documents);
    await settle();
    await fireEvent.click(screen.getByTestId('new-document'));
    await fireEvent.input(screen.getByTestId('doc-title'), { target: { value: 'Notes' } });
    await fireEvent.input(screen.getByTestId('doc-body'), { target: { value: 'Buy milk' } });
    await fireEvent.click(screen.getByTestId('doc-save'));
    await settle();
    expect(callsOf('document_save')[0]).toEqual({ id: null, title: 'Notes', body: 'Buy milk' });
  });

  it('streams a rewrite of the selection into the text with colours, then shows the revised document', async () => {
    const done = deferred<Document>();
    handlers.document_instruct = () => done.promise;
    await openLetter();
    const body = screen.getByTestId('doc-body') as HTMLTextAreaElement;
    body.setSelectionRange(10, 22); // "thanks a lot"
    await fireEvent.click(screen.getByTestId('doc-rewrite'));
    await settle();
    expect(callsOf('document_instruct')[0]).toMatchObject({ id: 3, instruction: 'rewrite', selectionStart: 10, selectionEnd: 22 });

    channelOf<GenEvent>('document_instruct')({ type: 'step', accepted: ['many'], correction: ' thanks', rejected: [' hugs'], drafter: 'model', draftMs: 1, verifyMs: 1 });
    await settle();
    const preview = screen.getByTestId('doc-preview');
    expect(preview.textContent).toContain('Dear Sam, ');
    expect(within(preview).getAllByTestId('token').map((t) => t.dataset.origin)).toEqual(['accepted', 'rejected', 'target']);
    expect(screen.getByTestId('doc-stop')).toBeTruthy();

    channelOf<GenEvent>('document_instruct')({ type: 'done', stats: statsFixture(), reason: 'eos', messageId: null });
    done.resolve(doc({ body: 'Dear Sam, many thanks.' }));
    await settle(10);
    expect(screen.queryByTestId('doc-preview')).toBeNull();
    expect((screen.getByTestId('doc-body') as HTMLTextAreaElement).value).toBe('Dear Sam, many thanks.');
  });

  it('sends no selection for Continue and Summarise', async () => {
    handlers.document_instruct = () => new Promise(() => {});
    await openLetter();
    (screen.getByTestId('doc-body') as HTMLTextAreaElement).setSelectionRange(0, 4);
    await fireEvent.click(screen.getByTestId('doc-summarise'));
    await settle();
    expect(callsOf('document_instruct')[0]).toMatchObject({ instruction: 'summarise', selectionStart: null, selectionEnd: null });
  });

  it('saves unsaved edits before running an instruction', async () => {
    handlers.document_instruct = () => new Promise(() => {});
    await openLetter();
    await fireEvent.input(screen.getByTestId('doc-body'), { target: { value: 'Changed text' } });
    await fireEvent.click(screen.getByTestId('doc-grammar'));
    await settle();
    expect(callsOf('document_save').at(-1)).toMatchObject({ body: 'Changed text' });
    expect(callsOf('document_instruct')).toHaveLength(1);
  });

  it('restores an earlier version', async () => {
    await openLetter();
    const revs = screen.getAllByTestId('revision');
    expect(revs[0].textContent).toContain('Version 1');
    await fireEvent.click(within(revs[0]).getByTestId('revision-restore'));
    await settle();
    expect(callsOf('document_save').at(-1)).toEqual({ id: 3, title: 'Letter', body: 'Old text.' });
  });

  it('exports to Markdown and shows the text to copy', async () => {
    handlers.document_export_markdown = () => '# Letter\n\nDear Sam, thanks a lot.\n';
    await openLetter();
    await fireEvent.click(screen.getByTestId('doc-export'));
    await settle();
    expect(callsOf('document_export_markdown')).toEqual([{ id: 3 }]);
    expect((screen.getByTestId('doc-export-text') as HTMLTextAreaElement).value).toBe('# Letter\n\nDear Sam, thanks a lot.\n');
  });

  it('opens a document asked for from search', async () => {
    nav.openDocumentId = 3;
    render(Documents);
    await settle(10);
    expect(callsOf('document_get')).toEqual([{ id: 3 }]);
    expect((screen.getByTestId('doc-body') as HTMLTextAreaElement).value).toBe('Dear Sam, thanks a lot.');
  });

  it('deletes after confirming', async () => {
    handlers.document_delete = () => null;
    render(Documents);
    await settle();
    await fireEvent.click(screen.getByTestId('delete-document'));
    await fireEvent.click(screen.getByTestId('delete-document-yes'));
    await settle();
    expect(callsOf('document_delete')).toEqual([{ id: 3 }]);
  });
});
