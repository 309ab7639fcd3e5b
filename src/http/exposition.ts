/**
 * The Prometheus text exposition format (0.0.4) for what `GET /metrics` serves: gauges, counters
 * and histograms with labels. Written here rather than taken from a client library: loading
 * prom-client (with the http, https, tls and cluster modules it loads for features the agent
 * does not use) was about 20 MB of an idle agent's RSS for some 150 lines of text.
 */

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Label values of one series, by label name. */
export type Labels<L extends string> = Record<L, string>

/** A sample value as the format writes it. */
function valueText (x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return '+Inf'
  if (x === -Infinity) return '-Inf'
  return String(x)
}

/** `{a="x",b="y"}` ('' for no labels), the values escaped as the format says. */
function labelsText (labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** A metric family: its name, help, type and series. */
abstract class Family<L extends string> {
  constructor (readonly name: string, private readonly help: string, private readonly type: 'gauge' | 'counter' | 'histogram') {}

  /** The family's sample lines. */
  protected abstract samples (): string[]

  /** HELP, TYPE and sample lines, each ending in a newline. */
  text (): string {
    const help = this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
    return [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].map(l => l + '\n').join('')
  }

  protected key (labels: Labels<L>): string {
    return labelsText(labels)
  }
}

/** Values by label set; a family without labels always has its one series (0 until set). */
class ValueFamily<L extends string> extends Family<L> {
  protected readonly values = new Map<string, number>()

  constructor (name: string, help: string, type: 'gauge' | 'counter', labelNames: readonly L[]) {
    super(name, help, type)
    if (labelNames.length === 0) this.values.set('', 0)
  }

  /** Sets the series of `labels` (`{}` for a family without labels). */
  set (labels: Labels<L>, value: number): void {
    this.values.set(this.key(labels), value)
  }

  /** Forgets every series (a family without labels goes back to 0). */
  reset (): void {
    const single = this.values.has('')
    this.values.clear()
    if (single) this.values.set('', 0)
  }

  protected samples (): string[] {
    return [...this.values].map(([labels, v]) => `${this.name}${labels} ${valueText(v)}`)
  }
}

/** A value that may go up and down. */
export class Gauge<L extends string = never> extends ValueFamily<L> {
  constructor (name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, 'gauge', labelNames)
  }
}

/** A count that only grows; `set` mirrors a count kept elsewhere (the agent's traffic counters). */
export class Counter<L extends string = never> extends ValueFamily<L> {
  constructor (name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, 'counter', labelNames)
  }

  /** Adds `by` to the series of `labels`. */
  inc (labels: Labels<L>, by = 1): void {
    const key = this.key(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
}

/** Observation counts of one label set: per bucket (not cumulative), their sum and number. */
interface HistogramSeries {
  labels: Record<string, string>
  buckets: number[]
  sum: number
  count: number
}

/** Observations (seconds) counted in buckets of upper bounds `buckets`. */
export class Histogram<L extends string = never> extends Family<L> {
  private readonly series = new Map<string, HistogramSeries>()

  constructor (name: string, help: string, private readonly buckets: readonly number[], labelNames: readonly L[] = []) {
    super(name, help, 'histogram')
    if (labelNames.length === 0) this.zero({} as Labels<L>)
  }

  /** Makes the series of `labels` exist with no observation, so rate() works before the first. */
  zero (labels: Labels<L>): void {
    const key = this.key(labels)
    if (!this.series.has(key)) this.series.set(key, { labels, buckets: this.buckets.map(() => 0), sum: 0, count: 0 })
  }

  /** Counts one observation. */
  observe (labels: Labels<L>, value: number): void {
    this.zero(labels)
    const s = this.series.get(this.key(labels))!
    const i = this.buckets.findIndex(b => value <= b)
    if (i >= 0) s.buckets[i]++
    s.sum += value
    s.count++
  }

  /** Starts a timer; the function it returns observes the seconds since. */
  startTimer (labels: Labels<L>): () => void {
    const t0 = process.hrtime.bigint()
    return () => { this.observe(labels, Number(process.hrtime.bigint() - t0) / 1e9) }
  }

  protected samples (): string[] {
    const out: string[] = []
    for (const s of this.series.values()) {
      let cumulative = 0
      for (const [i, le] of this.buckets.entries()) {
        cumulative += s.buckets[i]
        out.push(`${this.name}_bucket${labelsText({ ...s.labels, le: valueText(le) })} ${cumulative}`)
      }
      out.push(`${this.name}_bucket${labelsText({ ...s.labels, le: '+Inf' })} ${s.count}`)
      out.push(`${this.name}_sum${labelsText(s.labels)} ${valueText(s.sum)}`)
      out.push(`${this.name}_count${labelsText(s.labels)} ${s.count}`)
    }
    return out
  }
}
