/**
 * The status page's buttons and version history, part of its script (page-script.ts, whose
 * helpers `$`, `el`, `row`, `time`, `timeCell`, `ver`, `printable` and `names` it uses).
 * The token is typed in by the operator, checked with `POST /check-token` and kept in this
 * tab's sessionStorage; every control request is a same-origin POST with the token in its
 * `Authorization` header, so the agent's cross-site guards (same-origin.ts) let only it through.
 * Rolling back asks for a confirmation in the history row itself.
 */

/** Script text, inserted into the page script. */
export const CONTROL_SCRIPT = `
const TOKEN_KEY = 'spamsync-control-token';
const control = { token: sessionStorage.getItem(TOKEN_KEY) };
function note (id, text) { $(id).textContent = printable(text); }
function button (label, cls, onClick) {
  const b = el('button', label, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}
// A control request: same origin, the token in a header (never in the URL, which logs keep).
async function post (path, token) {
  const r = await fetch(path, { method: 'POST', cache: 'no-store', headers: { authorization: 'Bearer ' + (token || control.token) } });
  const body = (r.headers.get('content-type') || '').startsWith('application/json') ? await r.json() : {};
  if (r.ok) return body;
  if (body.error === 'ControlTokenError') setToken(null);
  throw new Error((body.error || 'HTTP ' + r.status) + ': ' + (body.message || ''));
}
function setToken (t) {
  control.token = t;
  if (t === null) sessionStorage.removeItem(TOKEN_KEY); else sessionStorage.setItem(TOKEN_KEY, t);
  $('locked').hidden = t !== null;
  $('unlocked').hidden = t === null;
  $('sync-now').disabled = t === null;
  $('sync-now').title = t === null ? 'enter the control token first' : '';
  versions.render();
}
function unlock () {
  const t = $('token').value.trim();
  if (t === '') { note('control-note', 'paste the token from the file http.token in the agent\\'s data folder'); return; }
  note('control-note', 'checking the token…');
  post('/check-token', t).then(() => { $('token').value = ''; setToken(t); note('control-note', ''); },
    (err) => { note('control-note', 'token refused: ' + err.message); });
}
function syncNow () {
  $('sync-now').disabled = true;
  note('sync-note', 'syncing…');
  post('/sync').then((r) => { note('sync-note', 'synced in ' + r.ms + ' ms at ' + time(Date.now()) + ', applied version ' + ver(r.appliedVersion)); },
    (err) => { note('sync-note', 'sync failed: ' + err.message); })
    .finally(() => { $('sync-now').disabled = control.token === null; });
}
function nodeOf (i) {
  const named = i.originName || i.nodeName || i.name || (typeof i.node === 'string' ? i.node : null);
  const td = el('td', named || names.get(i.origin) || i.origin);
  td.title = printable(i.origin);
  return td;
}
// What changed in a version: per dataset keys added/removed/changed and the Bayes counts (the
// history's change summary), or text, a list or plain numbers per dataset from an older agent.
function changeText (v) {
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.length + ' keys';
  const parts = Object.entries(v).filter(([k, n]) => k !== 'keys' && n !== 0 && !(Array.isArray(n) && n.length === 0))
    .map(([k, n]) => k + ' ' + (Array.isArray(n) ? n.length : typeof n === 'object' ? JSON.stringify(n) : n));
  return parts.length > 0 ? parts.join(', ') : 'no change';
}
function bayesText (b) {
  const msgs = (c) => (c.spam || 0) + (c.ham || 0);
  return 'bayes: ' + b.before.tokens + ' -> ' + b.after.tokens + ' tokens, ' + msgs(b.before) + ' -> ' + msgs(b.after) + ' messages';
}
function changeLinesOf (c) {
  if (c.lists === undefined && c.bayes === undefined) return Object.entries(c).map(([k, v]) => k + ': ' + changeText(v));
  const out = Object.entries(c.lists || {}).map(([ds, d]) => ds + ': ' + changeText(d));
  if (c.bayes) out.push(bayesText(c.bayes));
  return out.length > 0 ? out : ['no change'];
}
function changesCell (c) {
  if (c === undefined || c === null) return el('td', '-');
  if (typeof c !== 'object') return el('td', c);
  const td = el('td');
  const lines = Array.isArray(c) ? c.map((x) => typeof x === 'object' ? JSON.stringify(x) : x) : changeLinesOf(c);
  for (const l of lines) td.append(el('div', l));
  return td;
}
// One version's changed keys (GET /history/T.S), under the table.
function keyLine (k) {
  if (k.kind === 'added') return '+ ' + k.key + (k.value ? ' ' + k.value : '');
  if (k.kind === 'removed') return '- ' + k.key + (k.old ? ' (was ' + k.old + ')' : '');
  return '~ ' + k.key + ' ' + JSON.stringify(k.old || '') + ' -> ' + JSON.stringify(k.value || '');
}
function versionLines (item) {
  const c = item.changes;
  if (!c || typeof c !== 'object') return ['no change summary kept for this version'];
  if (c.lists === undefined && c.bayes === undefined) return changeLinesOf(c);
  const out = [];
  for (const [ds, d] of Object.entries(c.lists || {})) {
    out.push(ds + ': ' + changeText(d));
    for (const k of d.keys || []) out.push('  ' + keyLine(k));
    const more = (d.added || 0) + (d.removed || 0) + (d.changed || 0) - (d.keys || []).length;
    if (more > 0) out.push('  and ' + more + ' more');
  }
  if (c.bayes) out.push(bayesText(c.bayes));
  return out.length > 0 ? out : ['no list key changed'];
}
function showVersion (v) {
  fetch('/history/' + v, { cache: 'no-store' })
    .then((r) => r.json())
    .then((item) => {
      if (item.error) throw new Error(item.message || item.error);
      $('version-keys').replaceChildren(el('h3', 'Version ' + v + ', ' + time(item.time) + ', from ' + (item.name || names.get(item.origin) || item.origin)),
        ...versionLines(item).map((l) => el('pre', l)));
    })
    .catch((err) => { $('version-keys').replaceChildren(el('p', 'version ' + v + ': ' + err.message, 'none')); });
}
const countsOf = (counts) => Object.entries(counts || {}).map(([k, n]) => k + ' ' + n).join(', ') || '-';
// The kept versions (GET /history), fetched again whenever the central version moves.
const versions = {
  items: null,
  fetchedAt: null,
  current: null,
  confirming: null,
  busy: false,
  note: '',
  onStatus (s) {
    this.current = ver(s.version);
    if (this.current !== this.fetchedAt) this.load();
  },
  load () {
    this.fetchedAt = this.current;
    fetch('/history', { cache: 'no-store' })
      .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then((items) => { this.items = items; this.render(); },
        (err) => { this.fetchedAt = null; this.note = 'history not answering (' + err.message + ')'; this.render(); });
  },
  rollback (v) {
    this.confirming = null;
    this.busy = true;
    this.note = 'rolling back to ' + v + '…';
    this.render();
    post('/rollback?version=' + encodeURIComponent(v))
      .then((r) => { this.note = 'rolled back to ' + v + ': new central version ' + ver(r.version) + ' at ' + time(Date.now()); },
        (err) => { this.note = 'roll back to ' + v + ' failed: ' + err.message; })
      .finally(() => { this.busy = false; this.fetchedAt = null; this.render(); });
  },
  action (v) {
    const td = el('td');
    td.append(button('show', 'show', () => { showVersion(v); }));
    if (v === this.current) {
      td.append(el('span', 'current', 'none'));
    } else if (this.confirming === v) {
      td.append(el('span', 'Roll the lists back to ' + v + '? '),
        button('Yes, roll back', 'confirm-rollback', () => { this.rollback(v); }),
        button('Cancel', 'cancel-rollback', () => { this.confirming = null; this.render(); }));
    } else {
      const b = button('Roll back to this version', 'rollback', () => { this.confirming = v; this.render(); });
      b.disabled = control.token === null || this.busy;
      b.title = control.token === null ? 'enter the control token first' : 'makes a new version with the lists as they were in ' + v;
      td.append(b);
    }
    return td;
  },
  render () {
    const rows = (this.items || []).map((i) => row([el('td', ver(i.version), 'num'), timeCell(i.time), nodeOf(i), changesCell(i.changes), countsOf(i.counts), this.action(ver(i.version))]));
    const empty = this.items === null ? 'loading…' : 'no versions kept here (the master keeps them)';
    $('history').replaceChildren(...(rows.length > 0 ? rows : [row([empty, '', '', '', '', ''], 'down')]));
    note('history-note', this.note);
  }
};
$('unlock').addEventListener('click', unlock);
$('token').addEventListener('keydown', (e) => { if (e.key === 'Enter') unlock(); });
$('lock').addEventListener('click', () => { setToken(null); note('sync-note', ''); });
$('sync-now').addEventListener('click', syncNow);
setToken(control.token);
`
