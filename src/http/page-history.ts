/**
 * The status page's "Last changes": the newest kept versions (`GET /history`) with who made
 * them, when and what they changed, and one version's changed keys (`GET /history/T.S`) on
 * "show". A fragment of the page's script: it uses the page's `$`, `el`, `row`, `ver` and
 * `printable`, puts every text in as text, and is fetched again only when the version moves.
 */

/** Versions the page lists. */
export const PAGE_CHANGES_SHOWN = 10

/** The script fragment; `renderChanges(s)` runs with each `/status` document. */
export const PAGE_HISTORY_SCRIPT = `
function changeLines (c) {
  if (!c) return ['not recorded'];
  const out = Object.entries(c.lists || {}).map(([ds, d]) => ds + ' +' + d.added + ' -' + d.removed + ' ~' + d.changed);
  if (c.bayes) out.push('bayes ' + c.bayes.before.tokens + '→' + c.bayes.after.tokens + ' tokens, ' +
    (c.bayes.before.spam + c.bayes.before.ham) + '→' + (c.bayes.after.spam + c.bayes.after.ham) + ' messages');
  return out.length > 0 ? out : ['no change'];
}
function keyText (k) {
  if (k.kind === 'added') return '+ ' + k.key + (k.value ? ' ' + k.value : '');
  if (k.kind === 'removed') return '- ' + k.key + (k.old ? ' (was ' + k.old + ')' : '');
  return '~ ' + k.key + ' ' + JSON.stringify(k.old || '') + ' → ' + JSON.stringify(k.value || '');
}
function diffLines (item) {
  const out = [];
  for (const [ds, d] of Object.entries((item.changes && item.changes.lists) || {})) {
    out.push(ds + ': ' + d.added + ' added, ' + d.removed + ' removed, ' + d.changed + ' changed');
    for (const k of d.keys) out.push('  ' + keyText(k));
    const more = d.added + d.removed + d.changed - d.keys.length;
    if (more > 0) out.push('  … and ' + more + ' more');
  }
  if (item.changes && item.changes.bayes) out.push(changeLines({ bayes: item.changes.bayes })[0]);
  return out.length > 0 ? out : [item.changes ? 'no list key changed' : 'not recorded (cut before changes were kept)'];
}
function showDiff (v) {
  fetch('/history/' + v, { cache: 'no-store' })
    .then((r) => r.json())
    .then((item) => {
      if (item.error) throw new Error(item.message);
      $('diff').replaceChildren(el('h3', 'Version ' + v + ', ' + item.time + ', from ' + (item.name || item.origin)), ...diffLines(item).map((l) => el('pre', l)));
    })
    .catch((err) => { $('diff').replaceChildren(el('p', 'version ' + v + ': ' + err.message, 'none')); });
}
let changesOf = null;
function renderChanges (s) {
  const at = ver(s.version) + '/' + ver(s.appliedVersion);
  if (at === changesOf) return;
  changesOf = at;
  fetch('/history', { cache: 'no-store' })
    .then((r) => r.json())
    .then((items) => {
      const rows = items.slice(0, ${PAGE_CHANGES_SHOWN}).map((i) => {
        const show = el('button', 'show');
        show.addEventListener('click', () => showDiff(ver(i.version)));
        const cell = el('td');
        cell.append(show);
        return row([ver(i.version), i.time, i.name || i.origin, changeLines(i.changes).join('; '), cell]);
      });
      $('changes').replaceChildren(...(rows.length > 0 ? rows : [row(['no versions kept yet', '', '', '', ''], 'down')]));
    })
    .catch(() => { changesOf = null; });
}
`
