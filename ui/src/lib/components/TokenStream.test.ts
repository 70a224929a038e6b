import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import type { Span } from '../logic/stream';
import TokenStream from './TokenStream.svelte';

const spans: Span[] = [
  { key: 0, text: 'Hi', origin: 'accepted', step: 0 },
  { key: 1, text: ' yo', origin: 'rejected', step: 0 },
  { key: 2, text: ' there', origin: 'target', step: 0 },
];

describe('TokenStream', () => {
  it('marks each piece with its origin and lets thrown-away guesses fade', () => {
    render(TokenStream, { spans, keepRejected: false });
    const tokens = screen.getAllByTestId('token');
    expect(tokens.map((t) => [t.dataset.origin, t.textContent])).toEqual([
      ['accepted', 'Hi'],
      ['rejected', ' yo'],
      ['target', ' there'],
    ]);
    expect(tokens[1].classList.contains('fade')).toBe(true);
    expect(tokens[1].getAttribute('aria-hidden')).toBe('true');
  });

  it('keeps struck guesses without fading when asked', () => {
    render(TokenStream, { spans, keepRejected: true });
    const rejected = screen.getAllByTestId('token')[1];
    expect(rejected.classList.contains('fade')).toBe(false);
    expect(rejected.classList.contains('tok-rejected')).toBe(true);
  });

  it('renders markup in pieces as text', () => {
    render(TokenStream, { spans: [{ key: 0, text: '<script>alert(1)</script>', origin: 'target', step: 0 }] });
    const root = screen.getByTestId('token-stream');
    expect(root.querySelector('script')).toBeNull();
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });
});
