import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import Markdown from './Markdown.svelte';

describe('Markdown component', () => {
  it('renders sanitised Markdown', () => {
    render(Markdown, { source: 'Hello **world** <img src=x onerror=alert(1)><script>alert(1)</script>' });
    const root = screen.getByTestId('markdown');
    expect(root.querySelector('strong')?.textContent).toBe('world');
    expect(root.querySelector('img, script')).toBeNull();
  });

  it('makes links inert: a click opens nothing', async () => {
    render(Markdown, { source: '[site](https://example.org)' });
    const a = screen.getByTestId('markdown').querySelector('a')!;
    const ev = new MouseEvent('click', { bubbles: true, cancelable: true });
    a.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    expect(a.getAttribute('rel')).toContain('noopener');
    await fireEvent.click(a);
  });
});
