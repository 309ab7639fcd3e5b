/**
 * Whether a control request (a POST) comes from the agent's own status page or from a program
 * such as the spamsync CLI, and not from another site open in the operator's browser. The
 * control token already stops such a request (a cross-site page can neither read the token nor
 * send the header without a preflight, which the agent never grants); this second guard refuses
 * it by what the browser itself says, so a token that leaked into a browser is still not
 * enough for another site. Another port on 127.0.0.1 is another origin but the same *site*:
 * only `same-origin` counts.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { printable, PEER_TEXT_MAX } from '../printable.js'

/** `Sec-Fetch-Site` values a control request may carry: the page itself, or the user (typed URL). */
const OWN_FETCH_SITES: readonly string[] = ['same-origin', 'none']

/**
 * Why a request is cross-site, or null when it is not: a browser's `Sec-Fetch-Site` other than
 * `same-origin`/`none`, or an `Origin` whose host and port are not the `Host` it was sent to
 * (`null` included: sandboxed frames, file: pages). Programs send neither header and pass.
 */
export function crossSiteReason (headers: IncomingHttpHeaders): string | null {
  const site = headers['sec-fetch-site']
  if (typeof site === 'string' && !OWN_FETCH_SITES.includes(site.trim().toLowerCase())) {
    return `the browser marks it Sec-Fetch-Site "${printable(site, PEER_TEXT_MAX)}"`
  }
  const origin = headers.origin
  if (origin === undefined) return null
  const shown = `Origin "${printable(origin, PEER_TEXT_MAX)}"`
  let host: string
  try {
    const url = new URL(origin)
    // A TLS proxy in front of the agent keeps the Host, so https is this origin too.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `it comes from ${shown}`
    host = url.host
  } catch {
    return `it comes from ${shown}`
  }
  const own = (headers.host ?? '').trim().toLowerCase()
  return host === own || host === own.replace(/:80$/, '') ? null : `it comes from ${shown}, not from this agent's page on ${printable(own, PEER_TEXT_MAX)}`
}
