/**
 * `GET /`: a small status page, one HTML document with inline CSS and JS (no build step, no
 * external resources). It fetches `/status` every 2 s and re-renders; all data goes into the
 * DOM as text (textContent), never as markup, and with control and bidi characters escaped as
 * the agent escapes a peer's text (src/printable.ts), in case one got through. On top, the
cluster's one-line summary and a table of every node with a health colour (green in sync,
orange needs attention, red down; src/cluster/health.ts). It only reads:
 * it has no buttons, so it needs no control token.
 */
import { createHash } from 'node:crypto'
import { UNSAFE_CLASS } from '../printable.js'
import { PAGE_HISTORY_SCRIPT } from './page-history.js'

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.2rem; margin: 0 0 .25rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
#summary { color: #555; margin: 0; }
#cluster-summary { font-weight: bold; margin: .5rem 0 0; }
#cluster-summary.ok { color: #161; }
#cluster-summary.warn { color: #a60; }
#cluster-summary.down { color: #a00; }
.dot { font-size: 1.1em; }
.dot.ok { color: #2a2; }
.dot.warn { color: #d80; }
.dot.down { color: #c00; }
#updated { color: #777; margin-top: 1.5rem; }
#invalid { margin-top: .5rem; }
#offline { color: #a00; font-weight: bold; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .25rem .75rem .25rem 0; border-bottom: 1px solid #ddd; vertical-align: top; }
td.id { font-family: ui-monospace, monospace; font-size: 12px; }
td.num { text-align: right; }
tr.down td { color: #999; }
tr.incompatible td { color: #a00; }
ul { padding-left: 1.2rem; margin: 0; }
.none { color: #777; }
`

const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const UNSAFE = new RegExp(${JSON.stringify(UNSAFE_CLASS)}, 'gu');
const hex = (n, w) => n.toString(16).padStart(w, '0');
const printable = (t) => String(t).replace(UNSAFE, (c) => { const n = c.codePointAt(0); return n < 256 ? '\\\\x' + hex(n, 2) : '\\\\u' + hex(n, 4); });
function el (tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = printable(text);
  if (cls) e.className = cls;
  return e;
}
const ver = (v) => v ? v.term + '.' + v.seq : '-';
function ago (iso) {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? s + ' s ago' : Math.round(s / 60) + ' min ago';
}
const transfer = (t) => t ? t.kind + ', ' + t.bytes + ' bytes, ' + ago(t.time) : '-';
function row (cells, cls) {
  const tr = el('tr', null, cls);
  for (const c of cells) tr.append(typeof c === 'string' ? el('td', c) : c);
  return tr;
}
function list (id, items, empty) {
  $(id).replaceChildren(...(items.length > 0 ? items : [el('li', empty, 'none')]));
}
const COLOUR_TEXT = { ok: 'in sync', warn: 'needs attention', down: 'down' };
function renderCluster (s) {
  const nodes = s.cluster || [];
  const worst = nodes.some((n) => n.health === 'down') ? 'down' : nodes.some((n) => n.health === 'warn') ? 'warn' : 'ok';
  $('cluster-summary').textContent = printable(s.summary || '');
  $('cluster-summary').className = worst;
  $('cluster').replaceChildren(...nodes.map((n) => {
    const dot = el('td');
    const mark = el('span', '\u25cf', 'dot ' + n.health);
    mark.title = COLOUR_TEXT[n.health] || n.health;
    dot.append(mark);
    const name = el('td', n.name + (n.self ? ' (this node)' : ''));
    name.title = n.nodeId;
    const lag = n.lagVersions + (n.lagSeconds ? ' (' + n.lagSeconds + ' s)' : '');
    return row([dot, name, n.role, n.appliedVersion, el('td', lag, 'num'), ago(n.lastSync),
      n.outputs ? n.outputs.ok + ' ok / ' + n.outputs.failed + ' failed' : '-',
      n.hooks ? n.hooks.ok + ' ok / ' + n.hooks.failed + ' failed' : '-',
      n.agentVersion || '-', n.problems.length > 0 ? n.problems.join(', ') : '-'], n.health === 'down' ? 'down' : '');
  }));
}
function render (s) {
  $('offline').textContent = '';
  $('node').textContent = printable(s.name || s.nodeId);
  renderCluster(s);
  $('summary').textContent = printable(s.role + ' in term ' + s.term + ', master ' + (s.masterId || 'none yet') +
    ', central version ' + ver(s.version));
  list('warnings', (s.warnings || []).map((w) => el('li', w)), 'no warnings');
  const sync = el('td');
  sync.append(el('div', 'upload: ' + transfer(s.lastUpload)), el('div', 'download: ' + transfer(s.lastDownload)));
  const nodes = [row([el('td', s.name || s.nodeId), el('td', s.nodeId, 'id'), s.role, s.agentVersion, ver(s.appliedVersion), 'yes (this node)', 'now', sync], 'self')];
  for (const p of s.peers) {
    const state = !p.compatible ? 'incompatible' : p.live ? 'live' : 'down';
    nodes.push(row([el('td', p.name || p.id), el('td', p.id, 'id'), p.role + (state === 'down' ? ' (down)' : ''), p.agentVersion || '-',
      ver(p.appliedVersion), p.compatible ? 'yes' : 'no: ' + p.reason, ago(p.lastSeen), '-'], state));
  }
  $('nodes').replaceChildren(...nodes);
  const datasets = [];
  const bad = [];
  for (const [name, d] of Object.entries(s.datasets)) {
    datasets.push(row([name, el('td', d.entries, 'num'), el('td', d.invalidCount, 'num')]));
    if (d.fileError) bad.push(el('li', name + ': ' + d.fileError));
    for (const l of d.invalidLines) bad.push(el('li', l.file + ':' + l.line + ': ' + l.reason));
    if (d.invalidCount > d.invalidLines.length) bad.push(el('li', name + ': ' + (d.invalidCount - d.invalidLines.length) + ' more invalid lines'));
  }
  $('datasets').replaceChildren(...datasets);
  list('invalid', bad, 'no invalid lines');
  const outputs = (s.outputs || []).map((o) => {
    const left = el('td');
    for (const [why, n] of Object.entries(o.leftOut)) left.append(el('div', n + ' ' + why));
    if (o.conflicts > 0) left.append(el('div', o.conflicts + ' keys decided by precedence'));
    const c = o.command;
    const cmd = c === null ? 'none' : c.ok === null ? 'not run yet' : c.ok ? 'ok, ' + ago(c.lastRun) : 'FAILED: ' + c.error + (c.nextRetry ? ' (retry ' + c.nextRetry + ')' : '');
    return row([el('td', o.path, 'id'), o.format, el('td', o.entries, 'num'), left, ago(o.lastRender) + (o.writeError ? ', write FAILED: ' + o.writeError : ''), cmd], c !== null && c.ok === false || o.writeError ? 'incompatible' : '');
  });
  $('outputs').replaceChildren(...(outputs.length > 0 ? outputs : [row(['none configured', '', '', '', '', ''], 'down')]));
  list('errors', s.errors.slice().reverse().map((e) => el('li', e.time + '  ' + e.what + ': ' + e.message + (e.count > 1 ? ' (' + e.count + ' times, last ' + e.lastTime + ')' : ''))), 'no errors');
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  renderChanges(s);
}
${PAGE_HISTORY_SCRIPT}
// One request at a time: the next starts 2 s after the previous one settled.
function refresh () {
  fetch('/status', { cache: 'no-store' })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(render)
    .catch((err) => { $('offline').textContent = 'agent not answering (' + err.message + ')'; })
    .finally(() => { setTimeout(refresh, 2000); });
}
refresh();
`

function sha256 (text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

/** The page. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spamsync</title>
<style>${STYLE}</style>
</head>
<body>
<h1>spamsync <span id="node"></span></h1>
<p id="summary">loading…</p>
<p id="cluster-summary"></p>
<p id="offline"></p>
<h2>Warnings</h2>
<ul id="warnings"></ul>
<h2>Cluster</h2>
<table>
<thead><tr><th></th><th>Node</th><th>Role</th><th>Applied</th><th>Lag (versions)</th><th>Last sync</th><th>Outputs</th><th>Hook</th><th>Agent</th><th>Problems</th></tr></thead>
<tbody id="cluster"></tbody>
</table>
<h2>Peers</h2>
<table>
<thead><tr><th>Node</th><th>Id</th><th>Role</th><th>Agent</th><th>Applied</th><th>Compatible</th><th>Last seen</th><th>Last sync</th></tr></thead>
<tbody id="nodes"></tbody>
</table>
<h2>Datasets</h2>
<table>
<thead><tr><th>Dataset</th><th>Entries</th><th>Invalid lines</th></tr></thead>
<tbody id="datasets"></tbody>
</table>
<ul id="invalid"></ul>
<h2>Outputs</h2>
<table>
<thead><tr><th>Path</th><th>Format</th><th>Entries</th><th>Left out</th><th>Rendered</th><th>Command</th></tr></thead>
<tbody id="outputs"></tbody>
</table>
<h2>Last changes</h2>
<table>
<thead><tr><th>Version</th><th>Time</th><th>From</th><th>Changes</th><th></th></tr></thead>
<tbody id="changes"></tbody>
</table>
<div id="diff"></div>
<h2>Errors</h2>
<ul id="errors"></ul>
<p id="updated"></p>
<script>${SCRIPT}</script>
</body>
</html>
`

/** Content-Security-Policy of the page: only its own inline style and script, and fetches to this origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')
