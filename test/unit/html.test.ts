import { describe, expect, it } from 'vitest';
import { esc as consoleEsc, html, raw } from '../../lib/console/html';
import { esc as reportEsc } from '../../lambdas/ml/html-kit';

describe('Module: lib/html (the one HTML kit)', () => {
  it('is the escaping of the console and of the quality and drift reports alike', () => {
    expect(reportEsc).toBe(consoleEsc);
  });

  it('escapes the five characters that end text or a quoted attribute, and prints nothing for null', () => {
    expect(consoleEsc(`<img src=x onerror="a('b')">&`)).toBe('&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
    expect(consoleEsc(null)).toBe('');
    expect(consoleEsc(undefined)).toBe('');
  });

  it('escapes every interpolation of the template unless it is trusted Html', () => {
    const name = '<script>alert(1)</script>';
    expect(html`<td title="${name}">${name}${raw('<b>ok</b>')}${[html`<i>${'a&b'}</i>`]}</td>`.value).toBe(
      '<td title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b><i>a&amp;b</i></td>',
    );
  });
});
