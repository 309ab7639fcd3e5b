/**
 * `GET /`: a small status page, one HTML document with inline CSS and JS (no build step, no
 * external resources). Its script (page-script.ts) fetches `/status` every 2 s and re-renders.
 * On top, the cluster's one-line summary and the control row (token, "Sync now"); then this
 * node (listen addresses, uptime, clock offset to the master, sync traffic), the table of every
 * node with a health colour (green in sync, orange needs attention, red down;
 * src/cluster/health.ts), the peers, the kept versions with "Roll back to this version", the
 * datasets, outputs and errors. Every time is UTC in one format.
 */
import { createHash } from 'node:crypto'
import { PAGE_SCRIPT } from './page-script.js'

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
#control { margin: .75rem 0; padding: .5rem .75rem; background: #f4f4f4; border-radius: 4px; }
#control p { margin: .25rem 0 0; color: #555; }
#self th { font-weight: normal; color: #555; padding-right: 1.5rem; }
button { font: inherit; padding: .1rem .6rem; }
button.confirm-rollback { color: #fff; background: #b30; border: 1px solid #900; border-radius: 3px; }
#history-note, #sync-note { color: #555; }
button.show { margin-right: .5rem; }
#version-keys pre { margin: 0; }
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
<div id="control">
<span id="locked"><label for="token">Control token</label> <input id="token" type="password" autocomplete="off" spellcheck="false" size="30" placeholder="contents of http.token">
<button id="unlock" type="button">Unlock the buttons</button></span>
<span id="unlocked" hidden>Buttons unlocked in this tab <button id="lock" type="button">Forget the token</button></span>
<button id="sync-now" type="button" disabled>Sync now</button> <span id="sync-note"></span>
<p id="control-note">The buttons need the agent's control token: the file http.token in its data folder. It stays in this tab only.</p>
</div>
<h2>This node</h2>
<table><tbody id="self"></tbody></table>
<h2>Warnings</h2>
<ul id="warnings"></ul>
<h2>Cluster</h2>
<table>
<thead><tr><th></th><th>Node</th><th>Role</th><th>Applied</th><th>Lag (versions)</th><th>Last sync</th><th>Outputs</th><th>Hook</th><th>Uptime</th><th>Agent</th><th>Problems</th></tr></thead>
<tbody id="cluster"></tbody>
</table>
<h2>Peers</h2>
<table>
<thead><tr><th>Node</th><th>Id</th><th>Role</th><th>Agent</th><th>Applied</th><th>Compatible</th><th>Clock offset</th><th>Last seen</th></tr></thead>
<tbody id="nodes"></tbody>
</table>
<h2>Versions</h2>
<table>
<thead><tr><th>Version</th><th>Time</th><th>Node</th><th>Changes</th><th>Entries</th><th></th></tr></thead>
<tbody id="history"></tbody>
</table>
<p id="history-note"></p>
<div id="version-keys"></div>
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
<h2>Errors</h2>
<ul id="errors"></ul>
<p id="updated"></p>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`

/** Content-Security-Policy of the page: only its own inline style and script, and fetches to this origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(PAGE_SCRIPT)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')
