import { access, mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CONFIG_KEYS, defaultConfig, groupSections, type Config, type FlagKey } from '../../config.js'
import { LIST_DATASETS, listFileName, type ListDataset } from '../../constants.js'
import { FileAccessError } from '../../errors.js'
import { generateClusterKey, readClusterKey, writeClusterKey } from '../../net/cluster-key.js'
import type { Command } from '../command.js'

/** Name of the config file `init` writes. */
export const CONFIG_FILE = 'spamsync.json'

/** Name of the cluster key file `init` writes next to the config. */
export const KEY_FILE = 'cluster.key'

/** What each list is for, in the first line of its new file. */
const LIST_PURPOSE: Record<ListDataset, string> = {
  whitelist: 'senders that are never spam',
  blacklist: 'senders that are always spam',
  autowhitelist: 'senders whitelisted automatically'
}

/** The starting config: every key at its default with its help as a comment, folders relative to the config file. */
function startingConfig (dataDir: string): string {
  const { outputs: _, ...config }: Config = { ...defaultConfig(), dataDir, settingsDir: 'settings', clusterKey: KEY_FILE, commandDir: '.' }
  const grouped = groupSections(config)
  const lines = ['// spamsync configuration. Paths are relative to this file. Every key is optional.', '{', ...OUTPUT_EXAMPLES]
  const entries = Object.entries(grouped)
  entries.forEach(([key, value], i) => {
    const comma = i < entries.length - 1 ? ',' : ''
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inner = Object.entries(value)
      lines.push(`  "${key}": {`)
      inner.forEach(([k, v], j) => {
        lines.push(`    // ${CONFIG_KEYS[(key + k[0].toUpperCase() + k.slice(1)) as FlagKey].help}`)
        lines.push(`    ${JSON.stringify(k)}: ${JSON.stringify(v)}${j < inner.length - 1 ? ',' : ''}`)
      })
      lines.push(`  }${comma}`)
    } else {
      lines.push(`  // ${CONFIG_KEYS[key as FlagKey].help}`)
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`)
    }
  })
  lines.push('}')
  return lines.join('\n') + '\n'
}

/**
 * The `outputs` key with one disabled example of each format (README: "Using the lists in
 * Postfix / SpamAssassin / rspamd"); setting `enabled` to true (or removing it) turns one on.
 */
const OUTPUT_EXAMPLES = `  // Files rendered from the lists for the mail software, rewritten (and their command run) on
  // every server whenever their content changes. format: postfix-access, postfix-cidr,
  // spamassassin, rspamd-from, rspamd-ip; datasets: which lists go in; path: relative to this
  // file; command: run after the file changed, with SPAMSYNC_OUTPUT=<path>. A key in several
  // lists: whitelist wins over blacklist, blacklist over autowhitelist.
  "outputs": [
    // Postfix: check_sender_access hash:/etc/postfix/spamsync/sender_access
    { "enabled": false, "format": "postfix-access", "datasets": ["whitelist", "autowhitelist", "blacklist"],
      "path": "/etc/postfix/spamsync/sender_access", "command": "postmap hash:/etc/postfix/spamsync/sender_access" },
    // Postfix: check_client_access cidr:/etc/postfix/spamsync/client_access.cidr
    { "enabled": false, "format": "postfix-cidr", "datasets": ["whitelist", "autowhitelist", "blacklist"],
      "path": "/etc/postfix/spamsync/client_access.cidr", "command": "postfix reload" },
    // SpamAssassin: welcomelist_from / blocklist_from in the site config folder
    { "enabled": false, "format": "spamassassin", "datasets": ["whitelist", "autowhitelist", "blacklist"],
      "path": "/etc/spamassassin/spamsync.cf", "command": "systemctl reload spamd" },
    // rspamd: multimap maps (one verdict each), reread by rspamd when they change
    { "enabled": false, "format": "rspamd-from", "datasets": ["whitelist", "autowhitelist"], "path": "/etc/rspamd/local.d/spamsync_from_allow.map" },
    { "enabled": false, "format": "rspamd-from", "datasets": ["blacklist"], "path": "/etc/rspamd/local.d/spamsync_from_block.map" },
    { "enabled": false, "format": "rspamd-ip", "datasets": ["whitelist", "autowhitelist"], "path": "/etc/rspamd/local.d/spamsync_ip_allow.map" },
    { "enabled": false, "format": "rspamd-ip", "datasets": ["blacklist"], "path": "/etc/rspamd/local.d/spamsync_ip_block.map" }
  ],`.split('\n')

/** The comment line a new list file starts with. */
function listHeader (dataset: ListDataset): string {
  return `# spamsync ${dataset}: ${LIST_PURPOSE[dataset]}. One entry a line: KEY [VALUE] [# comment], KEY = address, domain, *.domain, IP or CIDR\n`
}

/** Runs a file-system step, turning its failure into one line naming the path. */
async function fsStep<T> (path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err: any) {
    throw new FileAccessError(`cannot write ${path}: ${err?.code ?? err?.message ?? err}`, { cause: err })
  }
}

/** True when `path` exists. */
async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}

/** `spamsync init [--dir DIR] [--data-dir DIR] [--without-config]`: a starting config, a cluster key and an empty settings folder. */
export const initCommand: Command = {
  name: 'init',
  help: `Usage: spamsync init [--dir DIR] [--data-dir DATADIR] [--without-config]

Writes DIR/${CONFIG_FILE} (every key at its default; folders are relative to the file), a new
cluster key DIR/${KEY_FILE} (mode 0600; an existing key is kept) and DIR/settings with empty
list files, then prints the next steps. Never overwrites anything: an existing config is an
error, existing list files are kept.

  --dir DIR                   where to write (default: the current folder)
  --data-dir DATADIR          the config's dataDir (default: data, next to the config)
  --without-config            write only the key and the settings folder, for a config that
                              comes from elsewhere (the Debian package ships its own)`,
  options: { dir: { type: 'string' }, 'data-dir': { type: 'string' }, 'without-config': { type: 'boolean' } },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const dir = resolve(typeof values.dir === 'string' && values.dir !== '' ? values.dir : '.')
    const dataDir = typeof values['data-dir'] === 'string' && values['data-dir'] !== '' ? values['data-dir'] : 'data'
    const withConfig = values['without-config'] !== true
    const configFile = join(dir, CONFIG_FILE)
    // Checked first so a refusal leaves everything as it was; the 'wx' write below closes the race.
    if (withConfig && await exists(configFile)) throw new FileAccessError(`${configFile} exists already; refusing to overwrite a config`)
    await fsStep(dir, async () => await mkdir(dir, { recursive: true }))

    const keyFile = join(dir, KEY_FILE)
    let keyNote: string
    if (await exists(keyFile)) {
      // A key copied from the first server: this node joins that cluster.
      await readClusterKey(keyFile)
      keyNote = `kept the existing cluster key ${keyFile}`
    } else {
      await writeClusterKey(keyFile, generateClusterKey())
      keyNote = `wrote a new cluster key ${keyFile} (mode 0600)`
    }

    const settingsDir = join(dir, 'settings')
    await fsStep(settingsDir, async () => await mkdir(settingsDir, { recursive: true }))
    for (const ds of LIST_DATASETS) {
      const file = join(settingsDir, listFileName(ds))
      await fsStep(file, async () => {
        // An operator's existing list is kept as it is.
        await writeFile(file, listHeader(ds), { flag: 'wx', mode: 0o644 }).catch((err) => { if (err?.code !== 'EEXIST') throw err })
      })
    }
    if (!withConfig) {
      stdout(`${keyNote}\nmade ${settingsDir} with ${LIST_DATASETS.map(listFileName).join(', ')}\n`)
      return 0
    }
    await fsStep(configFile, async () => await writeFile(configFile, startingConfig(dataDir), { flag: 'wx', mode: 0o644 }))

    stdout(`wrote ${configFile} (every key at its default)
${keyNote}
made ${settingsDir} with ${LIST_DATASETS.map(listFileName).join(', ')}

The config's folders are relative to it: ${dataDir}/ (agent state), settings/ (the files the mail
server reads; add bayes.txt for the Bayes DB), ${KEY_FILE}. Worth a look before the first start:
"bayes" (sa-learn export/import commands), "hooks": {"afterApply": "..."} (a command such as
postmap, run after a sync changed files), uploadIntervalHours/downloadIntervalHours (a schedule
under the instant sync, 1-240 hours, 0 = off). See the README's Configuration section.

Next:
  1. start this server: spamsync start --config ${configFile}
  2. every other server: copy ${KEY_FILE} (mode 0600) into a folder there, run
     spamsync init --dir FOLDER (it keeps the copied key) and start it the same way;
     a node without this key cannot connect
`)
    return 0
  }
}
