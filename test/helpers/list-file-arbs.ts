/**
 * fast-check generators of list files for the list-file tests: normalised keys, writable fields,
 * other spellings of a key, and whole files of entry, comment, blank and bad lines.
 */
import fc from 'fast-check'
import { checkKey } from '../../src/settings/list-key.js'
import { checkValue } from '../../src/settings/list-line.js'

// Valid normalised keys of every kind, reached through varied spellings so the pool is realistic.
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.domain(),
  fc.domain().map(d => `*.${d}`),
  fc.emailAddress(),
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`)
).map(raw => checkKey(raw)).filter((k): k is string => typeof k === 'string')

export const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '#', 'é', '='), maxLength: 8 })
  .filter(v => checkValue(v) === undefined)

/** Another spelling of a normalised key that normalises back to it. */
export function spell (key: string, how: number): string {
  const variants = [key, key.toUpperCase()]
  if (!key.includes('@') && !key.includes(':') && !key.includes('/') && !/^[0-9.]+$/.test(key)) {
    variants.push(`${key}.`)
    if (!key.startsWith('*')) variants.push(`@${key}`, `*@${key.toUpperCase()}.`)
  }
  const s = variants[how % variants.length]
  return checkKey(s) === key ? s : key
}

export type LineSpec =
  | { t: 'comment', indent: string, text: string }
  | { t: 'blank', ws: string }
  | { t: 'invalid', text: string }
  | { t: 'entry', key: number, how: number, indent: string, sep: string, value: string, comment: string }

export const lineArb: fc.Arbitrary<LineSpec> = fc.oneof(
  fc.record({ t: fc.constant('comment' as const), indent: fc.constantFrom('', '  ', '\t'), text: fc.string({ unit: fc.constantFrom('x', ' ', '#', 'é'), maxLength: 6 }) }),
  fc.record({ t: fc.constant('blank' as const), ws: fc.constantFrom('', ' ', '\t ') }),
  fc.record({ t: fc.constant('invalid' as const), text: fc.constantFrom('bad..key', 'no-dot', '01.2.3.4 x', 'a b c', '*foo.com # c', '1::2::3') }),
  { weight: 3, arbitrary: fc.record({
    t: fc.constant('entry' as const),
    key: fc.nat(),
    how: fc.nat(),
    indent: fc.constantFrom('', ' '),
    sep: fc.constantFrom(' ', '\t', '   '),
    value: valueArb,
    comment: fc.constantFrom('', ' # note', '\t#x', '  ')
  }) }
)

export function lineText (spec: LineSpec, pool: string[]): string {
  switch (spec.t) {
    case 'comment': return `${spec.indent}#${spec.text}`
    case 'blank': return spec.ws
    case 'invalid': return spec.text
    case 'entry': {
      const key = spell(pool[spec.key % pool.length], spec.how)
      return spec.indent + key + (spec.value === '' ? '' : spec.sep + spec.value) + spec.comment
    }
  }
}

export const scenarioArb = fc.record({
  pool: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 12 }),
  lines: fc.array(lineArb, { maxLength: 30 }),
  eol: fc.constantFrom('\n', '\r\n'),
  finalNewline: fc.boolean(),
  // What happens to each key of the file: kept, value changed, or dropped.
  fate: fc.array(fc.oneof(fc.constant('keep' as const), fc.constant('drop' as const), valueArb), { maxLength: 10 }),
  added: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 5 })
})

/** The changes a scenario makes to the file it parsed: each entry kept, dropped or given a new value in turn, then the added ones. */
export function scenarioChanges (s: { fate: readonly string[], added: ReadonlyArray<readonly [string, string]> }, p: { entries: ReadonlyMap<string, string> }): Map<string, string | undefined> {
  const changes = new Map<string, string | undefined>()
  let i = 0
  for (const [key] of p.entries) {
    const fate = s.fate[i++ % Math.max(1, s.fate.length)] ?? 'keep'
    if (fate === 'drop') changes.set(key, undefined)
    else if (fate !== 'keep') changes.set(key, fate)
  }
  for (const [key, value] of s.added) if (!p.entries.has(key)) changes.set(key, value)
  return changes
}
