/**
 * The status page's script (inline in `GET /`, allowed by its hash in the page's CSP). All data
 * goes into the DOM as text (textContent), never as markup, with control and bidi characters
 * escaped as the agent escapes a peer's text (src/printable.ts). Every time is shown in one
 * format, in UTC and saying so (`2026-12-06 18:40:12 UTC`), its age in the tooltip.
 *
 * The buttons (sync now, roll back) need the control token. The page never receives it from
 * the agent: the operator types it in (the `http.token` file of the data folder, as the CLI
 * reads it), the page checks it with `POST /check-token` and keeps it in this tab's
 * sessionStorage, which no other origin and no other tab can read. It travels only in the
 * `Authorization` header of the page's own same-origin requests.
 */
import { UNSAFE_CLASS } from '../printable.js'
import { CONTROL_SCRIPT } from './page-control.js'

/** Script text; a plain string so it runs in the browser as it is (no build step). */
export const PAGE_SCRIPT = `
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
function ms (t) {
  const n = typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(n) && n > 0 ? n : null;
}
// The one time format of the page: ISO date and time to the second, in UTC, named.
function time (t) {
  const n = t ? ms(t) : null;
  return n === null ? '-' : new Date(n).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}
function duration (s) {
  if (typeof s !== 'number' || !(s >= 0)) return '-';
  const d = Math.floor(s / 86400); const h = Math.floor(s % 86400 / 3600); const m = Math.floor(s % 3600 / 60);
  if (d > 0) return d + ' d ' + h + ' h';
  if (h > 0) return h + ' h ' + m + ' min';
  return m > 0 ? m + ' min ' + Math.floor(s % 60) + ' s' : Math.floor(s) + ' s';
}
function ago (t) {
  const n = t ? ms(t) : null;
  return n === null ? '' : duration(Math.max(0, Math.round((Date.now() - n) / 1000))) + ' ago';
}
function timeCell (t, tag) {
  const e = el(tag || 'td', time(t));
  e.title = ago(t);
  return e;
}
function bytes (n) {
  if (typeof n !== 'number') return '-';
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024; let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(1) + ' ' + units[i];
}
function offset (m) {
  if (typeof m !== 'number') return '-';
  const a = Math.abs(m);
  return (m < 0 ? '-' : '+') + (a < 1000 ? a + ' ms' : (a / 1000).toFixed(1) + ' s');
}
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
    const mark = el('span', '\\u25cf', 'dot ' + n.health);
    mark.title = COLOUR_TEXT[n.health] || n.health;
    dot.append(mark);
    const name = el('td', n.name + (n.self ? ' (this node)' : ''));
    name.title = n.nodeId;
    const lag = n.lagVersions + (n.lagSeconds ? ' (' + duration(n.lagSeconds) + ')' : '');
    return row([dot, name, n.role, n.appliedVersion, el('td', lag, 'num'), timeCell(n.lastSync),
      n.outputs ? n.outputs.ok + ' ok / ' + n.outputs.failed + ' failed' : '-',
      n.hooks ? n.hooks.ok + ' ok / ' + n.hooks.failed + ' failed' : '-',
      duration(n.uptimeSeconds), n.agentVersion || '-', n.problems.length > 0 ? n.problems.join(', ') : '-'], n.health === 'down' ? 'down' : '');
  }));
}
function clockText (s) {
  if (s.role === 'master') return 'this node is the master';
  if (typeof s.clockOffsetMs !== 'number') return 'not known yet (no master heard)';
  return offset(s.clockOffsetMs) + (s.clockOffsetMs === 0 ? '' : s.clockOffsetMs > 0 ? ' (ahead of the master)' : ' (behind the master)');
}
function renderSelf (s) {
  const traffic = el('td');
  traffic.append(el('div', 'received ' + bytes(s.bytesReceived) + ', sent ' + bytes(s.bytesSent)));
  if (s.fetchBytesServed > 0) traffic.append(el('div', 'of it served to other nodes: ' + bytes(s.fetchBytesServed)));
  traffic.title = s.bytesReceived + ' B received, ' + s.bytesSent + ' B sent';
  const listen = el('td');
  for (const a of s.listen || []) listen.append(el('div', a, 'id'));
  const started = typeof s.uptimeSeconds === 'number' ? time(Date.now() - s.uptimeSeconds * 1000) : '-';
  $('self').replaceChildren(
    row([el('th', 'Node id'), el('td', s.nodeId, 'id')]),
    row([el('th', 'Listen addresses'), listen]),
    row([el('th', 'Uptime'), duration(s.uptimeSeconds) + ' (since ' + started + ')']),
    row([el('th', 'Clock offset to the master'), clockText(s)]),
    row([el('th', 'Deletes forgotten before'), s.tombstoneFloor ? time(s.tombstoneFloor) + ' (tombstone floor)' : 'none yet: every delete is kept']),
    row([el('th', 'Sync traffic'), traffic]),
    row([el('th', 'Last upload'), transfer(s.lastUpload)]),
    row([el('th', 'Last download'), transfer(s.lastDownload)]));
}
const transfer = (t) => t ? t.kind + ', ' + bytes(t.bytes) + ', ' + time(t.time) : '-';
const names = new Map();
function render (s) {
  $('offline').textContent = '';
  $('node').textContent = printable(s.name || s.nodeId);
  for (const n of s.cluster || []) names.set(n.nodeId, n.name);
  renderCluster(s);
  const master = s.masterId ? names.get(s.masterId) || s.masterId : 'none yet';
  $('summary').textContent = printable(s.role + ' in term ' + s.term + ', master ' + master + ', central version ' + ver(s.version));
  list('warnings', (s.warnings || []).map((w) => el('li', w)), 'no warnings');
  renderSelf(s);
  const nodes = [];
  for (const p of s.peers) {
    const state = !p.compatible ? 'incompatible' : p.live ? 'live' : 'down';
    nodes.push(row([el('td', p.name || p.id), el('td', p.id, 'id'), p.role + (state === 'down' ? ' (down)' : ''), p.agentVersion || '-',
      ver(p.appliedVersion), p.compatible ? 'yes' : 'no: ' + p.reason, el('td', offset(p.clockOffsetMs), 'num'), timeCell(p.lastSeen)], state));
  }
  $('nodes').replaceChildren(...(nodes.length > 0 ? nodes : [row(['no peers known', '', '', '', '', '', '', ''], 'down')]));
  const datasets = [];
  const bad = [];
  for (const [name, d] of Object.entries(s.datasets)) {
    datasets.push(row([name, el('td', d.entries, 'num'), el('td', d.invalidCount, 'num')]));
    if (d.fileError) bad.push(el('li', name + ': ' + d.fileError));
    for (const l of d.invalidLines || []) bad.push(el('li', l.file + ':' + l.line + ': ' + l.reason));
    if (d.invalidCount > (d.invalidLines || []).length) bad.push(el('li', name + ': ' + (d.invalidCount - d.invalidLines.length) + ' more invalid lines'));
  }
  $('datasets').replaceChildren(...datasets);
  list('invalid', bad, 'no invalid lines');
  const outputs = (s.outputs || []).map((o) => {
    const left = el('td');
    for (const [why, n] of Object.entries(o.leftOut)) left.append(el('div', n + ' ' + why));
    if (o.conflicts > 0) left.append(el('div', o.conflicts + ' keys decided by precedence'));
    const c = o.command;
    const cmd = c === null ? 'none' : c.ok === null ? 'not run yet' : c.ok ? 'ok, ' + time(c.lastRun) : 'FAILED: ' + c.error + (c.nextRetry ? ' (retry ' + time(c.nextRetry) + ')' : '');
    return row([el('td', o.path, 'id'), o.format, el('td', o.entries, 'num'), left, time(o.lastRender) + (o.writeError ? ', write FAILED: ' + o.writeError : ''), cmd], c !== null && c.ok === false || o.writeError ? 'incompatible' : '');
  });
  $('outputs').replaceChildren(...(outputs.length > 0 ? outputs : [row(['none configured', '', '', '', '', ''], 'down')]));
  list('errors', s.errors.slice().reverse().map((e) => el('li', time(e.time) + '  ' + e.what + ': ' + e.message + (e.count > 1 ? ' (' + e.count + ' times, last ' + time(e.lastTime) + ')' : ''))), 'no errors');
  $('updated').textContent = 'updated ' + time(Date.now());
  versions.onStatus(s);
}
${CONTROL_SCRIPT}
// One request at a time: the next starts 2 s after the previous one settled.
function refresh () {
  fetch('/status', { cache: 'no-store' })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(render)
    .catch((err) => { $('offline').textContent = 'agent not answering (' + printable(err.message) + ')'; })
    .finally(() => { setTimeout(refresh, 2000); });
}
refresh();
`
