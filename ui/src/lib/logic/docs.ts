// Where an instruction's streamed answer goes in the document preview while it is written.
import type { DocInstruction } from '../api/types';

export interface PreviewParts {
  /** document text before the streamed answer */
  before: string;
  /** document text after it */
  after: string;
  /** the answer is shown as a separate block under the document (summaries) */
  separate: boolean;
}

export function normaliseSelection(
  body: string,
  start: number | null,
  end: number | null,
): { start: number | null; end: number | null } {
  if (start === null || end === null) return { start: null, end: null };
  const a = Math.max(0, Math.min(start, end, body.length));
  const b = Math.min(body.length, Math.max(start, end));
  return a === b ? { start: null, end: null } : { start: a, end: b };
}

/**
 * continue: answer appended to the end. rewrite/grammar: answer replaces the selection (the whole
 * text when nothing is selected). summarise: answer shown under the unchanged text.
 */
export function previewParts(
  body: string,
  instruction: DocInstruction,
  start: number | null,
  end: number | null,
): PreviewParts {
  const sel = normaliseSelection(body, start, end);
  switch (instruction) {
    case 'continue':
      return { before: body, after: '', separate: false };
    case 'summarise':
      return { before: body, after: '', separate: true };
    case 'rewrite':
    case 'grammar':
      if (sel.start === null || sel.end === null) return { before: '', after: '', separate: false };
      return { before: body.slice(0, sel.start), after: body.slice(sel.end), separate: false };
  }
}
