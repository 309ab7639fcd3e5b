/**
 * Bit-packed columns of the Bayes file, version 2 (bayes-codec.ts describes the layout): a writer
 * and a reader of bits, least significant bit first within each byte. Values go in pieces of at
 * most 24 bits, so every shift stays inside a 32-bit integer; wider values are split by the caller.
 */

/** Widest piece one put or read moves. */
export const PIECE_BITS = 24
/** Zero bits that stand for an escaped token gap instead of a unary quotient (bayes-codec.ts). */
export const GAP_ESCAPE = 24
/** Bits of an escaped gap: the whole 40-bit gap, raw. */
export const GAP_RAW_BITS = 40

const TWO_24 = 2 ** 24

/** Writes bits into `buf` from byte `at` on; the caller has made room for all of them. */
export class BitWriter {
  private acc = 0
  private bits = 0

  constructor (private readonly buf: Uint8Array, public at: number) {}

  /** Appends the low `len` bits of v (len <= 24, v < 2^len). */
  put (v: number, len: number): void {
    this.acc |= v << this.bits
    this.bits += len
    while (this.bits >= 8) {
      this.buf[this.at++] = this.acc & 0xff
      this.acc >>>= 8
      this.bits -= 8
    }
  }

  /** Appends a value of up to 53 bits in `len` bits, in pieces. */
  putWide (v: number, len: number): void {
    while (len > PIECE_BITS) {
      const low = v % TWO_24
      this.put(low, PIECE_BITS)
      v = (v - low) / TWO_24
      len -= PIECE_BITS
    }
    this.put(v, len)
  }

  /** Pads the last byte with zero bits; returns the end. */
  finish (): number {
    if (this.bits > 0) this.buf[this.at++] = this.acc & 0xff
    this.acc = 0
    this.bits = 0
    return this.at
  }
}

/**
 * Reads bits from buf[at, end). `fail` is called (and must throw) on reading past the end, so a
 * forged length can never make a read leave its column.
 */
export class BitReader {
  private acc = 0
  private bits = 0

  constructor (private readonly buf: Uint8Array, private at: number, private readonly end: number, private readonly fail: (problem: string) => never) {}

  /** The next `len` bits (len <= 24) as an integer. */
  take (len: number): number {
    while (this.bits < len) {
      if (this.at >= this.end) this.fail('truncated: a bit-packed column ends inside a value')
      this.acc |= this.buf[this.at++] << this.bits
      this.bits += 8
    }
    const v = len === 0 ? 0 : this.acc & (0xffffffff >>> (32 - len))
    this.acc >>>= len
    this.bits -= len
    return v
  }

  /** A value of up to 53 bits written by putWide. */
  takeWide (len: number): number {
    let v = 0
    let scale = 1
    while (len > PIECE_BITS) {
      v += this.take(PIECE_BITS) * scale
      scale *= TWO_24
      len -= PIECE_BITS
    }
    return v + this.take(len) * scale
  }

  /**
   * A unary quotient: the zero bits before the next one bit, which is consumed too; GAP_ESCAPE
   * when that many zero bits come first (only they are consumed).
   */
  unary (): number {
    while (this.bits <= GAP_ESCAPE - 1 && this.at < this.end) {
      this.acc |= this.buf[this.at++] << this.bits
      this.bits += 8
    }
    const window = this.bits > GAP_ESCAPE ? GAP_ESCAPE : this.bits
    const low = window === 0 ? 0 : this.acc & (0xffffffff >>> (32 - window))
    if (low !== 0) {
      const q = 31 - Math.clz32(low & -low)
      this.acc >>>= q + 1
      this.bits -= q + 1
      return q
    }
    if (window < GAP_ESCAPE) this.fail('truncated: a bit-packed column ends inside a value')
    this.acc >>>= GAP_ESCAPE
    this.bits -= GAP_ESCAPE
    return GAP_ESCAPE
  }

  /** Throws unless the column was read to its end and its padding bits are zero. */
  done (): void {
    if (this.at !== this.end || this.bits >= 8) this.fail(`${this.end - this.at + (this.bits >> 3)} bytes of a bit-packed column are left unread`)
    if (this.acc !== 0) this.fail('a bit-packed column has padding bits that are not zero')
  }
}
