/** Text made safe for HTML text and double-quoted attribute values. Job output is hostile text. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON to embed in a <script type="application/json">: no `<`, so no `</script>` can close it early. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.3rem} h2{font-size:1.05rem;margin-top:1.6rem}
code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f4f4f6;border:1px solid #ddd;border-radius:4px;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all;max-height:40rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem} dt{color:#666}
.err,.stderr{color:#b00020} .progress{color:#666} .note{color:#666;font-size:.9rem}
.state-completed{color:#137333} .state-failed{color:#b00020} .state-active{color:#1a5fb4}
`;

export function pageShell(title: string, body: string, script?: { nonce: string; code: string; data?: unknown }): string {
  const data = script?.data !== undefined ? `<script type="application/json" id="data">${scriptJson(script.data)}</script>\n` : '';
  const js = script ? `${data}<script nonce="${script.nonce}">${script.code}</script>\n` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
${js}</body></html>
`;
}
