/**
 * The blacklists the benchmarks sync: the 121,570 real domains of the devDependency
 * `disposable-email-domains`, its first 10,000, and 1,000,000 generated domains (deterministic,
 * so every run and every machine syncs the same bytes).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'

/** The list sizes the benchmarks know by name. */
export type ListName = '10k' | '121k' | '1M'

export const LIST_NAMES: readonly ListName[] = ['10k', '121k', '1M']

/** A list to sync: its domains, one a line, and where they come from. */
export interface BenchList {
  name: ListName
  domains: string[]
  source: string
}

/** Loads the domain list of the devDependency `disposable-email-domains`. */
export async function loadDisposableDomains (): Promise<string[]> {
  const path = createRequire(import.meta.url).resolve('disposable-email-domains/index.json')
  const domains: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (!Array.isArray(domains) || domains.length === 0 || !domains.every(d => typeof d === 'string')) {
    throw new Error(`${path} is not a non-empty JSON array of strings`)
  }
  return domains
}

/** mulberry32: a small seeded PRNG returning [0, 1). */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CONSONANTS = 'bcdfghjklmnprstvwz'
const VOWELS = 'aeiou'
const TLDS = ['com', 'net', 'org', 'info', 'biz', 'xyz', 'top', 'ru', 'de', 'io', 'co.uk', 'email']

/**
 * `n` distinct domains that look like the disposable ones (2-4 pronounceable syllables, a base-36
 * serial that makes each unique, a common TLD); the same for the same `n` and `seed`.
 */
export function syntheticDomains (n: number, seed = 1): string[] {
  const rnd = prng(seed)
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)]
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    let label = ''
    const syllables = 2 + Math.floor(rnd() * 3)
    for (let k = 0; k < syllables; k++) label += pick(CONSONANTS) + pick(VOWELS)
    out[i] = `${label}${i.toString(36)}.${TLDS[Math.floor(rnd() * TLDS.length)]}`
  }
  return out
}

/** The named list. */
export async function benchList (name: ListName): Promise<BenchList> {
  if (name === '1M') return { name, domains: syntheticDomains(1_000_000), source: 'synthetic (seed 1)' }
  const all = await loadDisposableDomains()
  if (name === '10k') return { name, domains: all.slice(0, 10_000), source: 'disposable-email-domains, first 10,000' }
  return { name, domains: all, source: 'disposable-email-domains' }
}
