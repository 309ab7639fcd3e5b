/** A V8 CPU profile summarised by self and inclusive time, for the Bayes benchmark's --profile. */
import { round } from './measure.js'

/** Self and inclusive time of a V8 CPU profile, by function and by file. */
export interface ProfileSummary {
  totalMs: number
  samples: number
  topSelf: Array<{ fn: string, ms: number, pct: number }>
  topSelfByFile: Array<{ file: string, ms: number, pct: number }>
  topInclusiveSrc: Array<{ fn: string, ms: number, pct: number }>
}

interface CpuProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
export interface CpuProfile { nodes: CpuProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

function shortUrl (url: string): string {
  if (url === '') return ''
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) return url.slice(nm + 14)
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + 6)
  return url.replace(/^file:\/\//, '')
}

function fileGroup (url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native/builtin)'
  if (url.startsWith('node:')) return 'node:internal'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    return 'node_modules/' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0])
  }
  return shortUrl(url)
}

export function summarizeProfile (p: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const key = (n: CpuProfileNode): string => {
    const f = n.callFrame
    const name = f.functionName === '' ? '(anonymous)' : f.functionName
    return f.url === '' ? name : `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`
  }
  const self = new Map<string, number>()
  const files = new Map<string, number>()
  const incl = new Map<string, number>()
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000
    total += dt
    const node = byId.get(p.samples[i])
    if (node === undefined) continue
    const k = key(node)
    self.set(k, (self.get(k) ?? 0) + dt)
    const g = fileGroup(node.callFrame.url, node.callFrame.functionName)
    files.set(g, (files.get(g) ?? 0) + dt)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id) as CpuProfileNode
      if (!n.callFrame.url.includes('/dist/src/')) continue
      const kk = key(n)
      if (seen.has(kk)) continue
      seen.add(kk)
      incl.set(kk, (incl.get(kk) ?? 0) + dt)
    }
  }
  const rank = (m: Map<string, number>, label: 'fn' | 'file'): Array<any> => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, ms]) => ({ [label]: k, ms: round(ms, 0), pct: round(ms / total * 100, 1) }))
  return { totalMs: round(total, 0), samples: p.samples.length, topSelf: rank(self, 'fn'), topSelfByFile: rank(files, 'file'), topInclusiveSrc: rank(incl, 'fn') }
}
