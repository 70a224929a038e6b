// Model output is hostile input: Markdown -> HTML with marked, then DOMPurify with a strict config.
// Raw HTML in the source is shown as text, images as their alt text, and links keep only
// http(s)/mailto addresses (the UI makes them inert; nothing opens inside the app).
import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import { escapeHtml, highlightCode } from './highlight';

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    image({ text }) {
      return escapeHtml(text);
    },
    checkbox({ checked }) {
      return checked ? '[x] ' : '[ ] ';
    },
    code({ text, lang }) {
      const { html, lang: name } = highlightCode(text, lang);
      const cls = name ? `hljs language-${name}` : 'hljs';
      return `<pre><code class="${cls}">${html}</code></pre>\n`;
    },
  },
});

const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'b', 'em', 'i', 'del', 's',
  'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'span', 'sup', 'sub', 'kbd',
];
const FORBID_TAGS = [
  'script', 'style', 'iframe', 'frame', 'frameset', 'form', 'input', 'button', 'textarea', 'select',
  'option', 'svg', 'math', 'img', 'picture', 'video', 'audio', 'source', 'object', 'embed', 'link',
  'meta', 'base', 'template', 'noscript',
];
const SAFE_LINK = /^(?:https?:|mailto:)/i;

const purify = DOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  const el = node as Element;
  if (typeof el.getAttribute !== 'function') return;
  // Only highlight.js classes survive, so output cannot borrow the app's own styles.
  const cls = el.getAttribute('class');
  if (cls !== null) {
    const kept = cls.split(/\s+/).filter((c) => /^(hljs|language-)[\w-]*$/.test(c));
    if (kept.length) el.setAttribute('class', kept.join(' '));
    else el.removeAttribute('class');
  }
  if (el.tagName === 'A') {
    const href = el.getAttribute('href');
    if (href !== null && !SAFE_LINK.test(href.trim())) el.removeAttribute('href');
    el.removeAttribute('target');
    el.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

/** Sanitise an HTML string with the strict config. */
export function sanitizeHtml(html: string): string {
  return purify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['href', 'title', 'class', 'rel', 'align', 'start'],
    FORBID_TAGS,
    FORBID_ATTR: ['style', 'target', 'srcset', 'src', 'action', 'formaction', 'xlink:href'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: SAFE_LINK,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    KEEP_CONTENT: true,
    RETURN_TRUSTED_TYPE: false,
  }) as string;
}

/** Markdown source (from a model or a person) -> sanitised HTML, safe for {@html}. */
export function renderMarkdown(src: string): string {
  const html = marked.parse(src ?? '', { async: false }) as string;
  return sanitizeHtml(html);
}
