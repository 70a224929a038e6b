import { describe, expect, it } from 'vitest';
import { renderMarkdown, sanitizeHtml } from './markdown';

function dom(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

/** No element carries an on* attribute, and no link or source points at script or data. */
function assertInert(root: HTMLElement) {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith('on'), `${el.tagName} ${attr.name}`).toBe(false);
      expect(attr.value.replace(/\s/g, '').toLowerCase()).not.toMatch(/^(javascript|data|vbscript):/);
    }
  }
  expect(root.querySelector('script, style, iframe, form, svg, img, object, embed, input, button')).toBeNull();
}

const attacks = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '[x](javascript:alert(1))',
  '<a href="javascript:alert(1)">x</a>',
  '<svg onload=alert(1)>',
  '<iframe src="https://example.invalid"></iframe>',
  '<style>body{display:none}</style>',
  '<form action="x"><input name="a"></form>',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![img](https://example.invalid/a.png)',
  '<a href="  JaVaScRiPt:alert(1)">y</a>',
  '[x](vbscript:msgbox(1))',
];

describe('renderMarkdown', () => {
  it.each(attacks)('leaves nothing active for %s', (src) => {
    const root = dom(renderMarkdown(src));
    assertInert(root);
  });

  it('shows raw HTML from the model as text', () => {
    const root = dom(renderMarkdown('before <script>alert(1)</script> after'));
    expect(root.querySelector('script')).toBeNull();
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });

  it('drops javascript: link targets but keeps the words', () => {
    const root = dom(renderMarkdown('[x](javascript:alert(1))'));
    const a = root.querySelector('a');
    expect(root.textContent).toContain('x');
    if (a) expect(a.getAttribute('href')).toBeNull();
  });

  it('keeps web links but makes them safe', () => {
    const root = dom(renderMarkdown('[site](https://example.org/page)'));
    const a = root.querySelector('a')!;
    expect(a.getAttribute('href')).toBe('https://example.org/page');
    expect(a.getAttribute('rel')).toContain('noopener');
    expect(a.getAttribute('target')).toBeNull();
  });

  it('never renders images (no remote content)', () => {
    const root = dom(renderMarkdown('![a cat](https://example.invalid/cat.png)'));
    expect(root.querySelector('img')).toBeNull();
    expect(root.textContent).toContain('a cat');
  });

  it('renders ordinary Markdown', () => {
    const root = dom(renderMarkdown('# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |'));
    expect(root.querySelector('h1')?.textContent).toBe('Title');
    expect(root.querySelector('strong')?.textContent).toBe('bold');
    expect(root.querySelectorAll('li')).toHaveLength(2);
    expect(root.querySelector('table td')?.textContent).toBe('1');
  });

  it('highlights code in registered languages', () => {
    const root = dom(renderMarkdown('```rust\nfn main() { let x = 1; }\n```'));
    const code = root.querySelector('pre code')!;
    expect(code.className).toContain('language-rust');
    expect(code.querySelector('.hljs-keyword')?.textContent).toBe('fn');
  });

  it('escapes code in unknown languages and inside code blocks', () => {
    const root = dom(renderMarkdown('```nosuchlang\n<img src=x onerror=alert(1)>\n```'));
    assertInert(root);
    expect(root.querySelector('pre code')?.textContent).toContain('<img src=x onerror=alert(1)>');
  });
});

describe('sanitizeHtml', () => {
  it('strips dangerous HTML even when given directly', () => {
    const root = dom(
      sanitizeHtml(
        '<p onclick="x()">hi</p><img src=x onerror=alert(1)><script>alert(1)</script><svg onload=alert(1)></svg><iframe></iframe><a href="javascript:alert(1)">x</a><div class="app-button" style="position:fixed">z</div>',
      ),
    );
    assertInert(root);
    expect(root.querySelector('[style]')).toBeNull();
    expect(root.querySelector('.app-button')).toBeNull();
    expect(root.textContent).toContain('hi');
  });
});
