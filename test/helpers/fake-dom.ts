/**
 * Just enough of a browser for the status page's script to run in node: elements with text,
 * classes, children and click listeners; `getElementById` finds the page's static elements
 * (made on first use); sessionStorage; a fetch that answers from a table and records requests.
 * The script runs as it is served (new Function over its text), so the tests see its real code.
 */

/** An element of the fake document. */
export class FakeElement {
  readonly children: FakeElement[] = []
  className = ''
  title = ''
  hidden = false
  disabled = false
  type = ''
  value = ''
  private text = ''
  private readonly listeners = new Map<string, Array<(e: unknown) => void>>()

  constructor (readonly tag: string, readonly id = '') {}

  get textContent (): string {
    return this.children.length > 0 ? this.children.map(c => c.textContent).join('') : this.text
  }

  set textContent (t: string) {
    this.children.length = 0
    this.text = t
  }

  append (...nodes: FakeElement[]): void { this.children.push(...nodes) }
  replaceChildren (...nodes: FakeElement[]): void {
    this.children.length = 0
    this.text = ''
    this.children.push(...nodes)
  }

  addEventListener (type: string, fn: (e: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn])
  }

  /** Runs the click listeners, as a click on an enabled button does. */
  click (): void {
    if (this.disabled) throw new Error(`clicked a disabled ${this.tag}: ${this.textContent}`)
    for (const fn of this.listeners.get('click') ?? []) fn({})
  }

  /** Every element below this one (depth first) that `match` accepts. */
  findAll (match: (e: FakeElement) => boolean): FakeElement[] {
    return this.children.flatMap(c => [...(match(c) ? [c] : []), ...c.findAll(match)])
  }

  /** The rows of a table body as lists of cell texts. */
  rows (): string[][] {
    return this.children.map(tr => tr.children.map(td => td.textContent))
  }
}

/** A recorded request of the page. */
export interface FakeRequest { path: string, method: string, headers: Record<string, string> }

/** The page's world: its document, storage, requests, and the answers it gets. */
export class FakeBrowser {
  readonly byId = new Map<string, FakeElement>()
  readonly storage = new Map<string, string>()
  readonly requests: FakeRequest[] = []
  /** Answers by `METHOD path`: status code and JSON body. */
  readonly answers = new Map<string, { status: number, body: unknown }>()

  readonly document = {
    getElementById: (id: string): FakeElement => {
      if (!this.byId.has(id)) this.byId.set(id, new FakeElement('static', id))
      return this.byId.get(id) as FakeElement
    },
    createElement: (tag: string): FakeElement => new FakeElement(tag)
  }

  readonly sessionStorage = {
    getItem: (k: string): string | null => this.storage.get(k) ?? null,
    setItem: (k: string, v: string): void => { this.storage.set(k, v) },
    removeItem: (k: string): void => { this.storage.delete(k) }
  }

  readonly fetch = async (path: string, init: { method?: string, headers?: Record<string, string> } = {}): Promise<unknown> => {
    const method = init.method ?? 'GET'
    this.requests.push({ path, method, headers: init.headers ?? {} })
    const answer = this.answers.get(`${method} ${path}`)
    // An unanswered request stays pending, as a slow agent's would.
    if (answer === undefined) return await new Promise(() => {})
    return {
      ok: answer.status >= 200 && answer.status < 300,
      status: answer.status,
      headers: { get: (h: string) => h.toLowerCase() === 'content-type' ? 'application/json; charset=utf-8' : null },
      json: async () => structuredClone(answer.body)
    }
  }

  /** The element of a static id. */
  $ (id: string): FakeElement { return this.document.getElementById(id) }

  /**
   * Runs `script` in this world (its refresh loop does not re-arm: setTimeout is a no-op) and
   * returns the named functions of its top level.
   */
  run<T> (script: string, exported: string[]): T {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the test runs the page's inline script as the browser would, with this fake world as its globals
    const fn = new Function('document', 'sessionStorage', 'fetch', 'setTimeout', `${script}\n;return { ${exported.join(', ')} }`)
    return fn(this.document, this.sessionStorage, this.fetch, () => {}) as T
  }
}

/** Lets pending promise callbacks run (the page's fetch chains). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
}
