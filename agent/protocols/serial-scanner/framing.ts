import { decodeText, stripAffixes, unreadableReason } from '../scanner/code-text';

/**
 * Cuts the byte stream of a serial scanner into scans. Pure: bytes in,
 * scans or unreadable frames out; the adapter does the I/O.
 *
 * - `suffix` framing: a scan ends with the terminator the scanner is set to
 *   send (CR by default). CR and LF around a scan are ignored, so a scanner
 *   sending CRLF also works with `CR` or `LF` framing; empty frames are ignored.
 * - `fixedLength` framing: every scan is exactly that many bytes.
 */

export type SuffixName = 'CR' | 'LF' | 'CRLF';
export type Framing = { suffix: SuffixName | string } | { fixedLength: number };

export type Frame = { kind: 'scan'; code: string } | { kind: 'unreadable'; raw: Buffer; reason: string };

export interface FrameDecoderOptions {
  framing: Framing;
  /** Removed from the start of a scan when present. */
  stripPrefix: string;
  /** Removed from the end of a scan when present. */
  stripSuffix: string;
  /** Longest scan in bytes, without its terminator. */
  maxLength: number;
}

/** The bytes that end a scan for a `suffix` setting. */
export function terminatorBytes(suffix: string): Buffer {
  if (suffix === 'CR') return Buffer.from('\r');
  if (suffix === 'LF') return Buffer.from('\n');
  if (suffix === 'CRLF') return Buffer.from('\r\n');
  return Buffer.from(suffix, 'utf8');
}

function isCrLf(b: number): boolean {
  return b === 0x0d || b === 0x0a;
}

function trimCrLf(buf: Buffer): Buffer {
  let start = 0;
  let end = buf.length;
  while (start < end && isCrLf(buf[start]!)) start++;
  while (end > start && isCrLf(buf[end - 1]!)) end--;
  return buf.subarray(start, end);
}

export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private readonly term: Buffer | undefined;
  private readonly fixedLength: number | undefined;
  /** While a frame runs past maxLength: its first bytes (kept as evidence) and how many bytes it had. */
  private overflow: { sample: Buffer; bytes: number } | undefined;

  constructor(private readonly options: FrameDecoderOptions) {
    if ('fixedLength' in options.framing) this.fixedLength = options.framing.fixedLength;
    else this.term = terminatorBytes(options.framing.suffix);
  }

  /** Bytes received that do not make a complete scan yet. */
  get pendingBytes(): number {
    return this.buf.length + (this.overflow?.bytes ?? 0);
  }

  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.fixedLength !== undefined) {
      const n = this.fixedLength;
      while (this.buf.length >= n) {
        const frame = this.decode(Buffer.from(this.buf.subarray(0, n)), false);
        if (frame) out.push(frame);
        this.buf = this.buf.subarray(n);
      }
      return out;
    }
    const term = this.term!;
    for (;;) {
      const idx = this.buf.indexOf(term);
      if (idx < 0) break;
      const body = Buffer.from(this.buf.subarray(0, idx));
      this.buf = this.buf.subarray(idx + term.length);
      if (this.overflow) {
        out.push(this.overflowFrame(body.length));
      } else if (body.length > this.options.maxLength) {
        out.push({
          kind: 'unreadable',
          raw: body.subarray(0, this.options.maxLength),
          reason: `scan of ${body.length} bytes is longer than maxLength ${this.options.maxLength} (first ${this.options.maxLength} bytes kept)`,
        });
      } else {
        const frame = this.decode(body, true);
        if (frame) out.push(frame);
      }
    }
    // No terminator in what is left: do not let a scanner without terminator fill memory.
    if (this.buf.length > this.options.maxLength + term.length) {
      const keep = term.length - 1; // a terminator may be split across chunks
      const discard = this.buf.subarray(0, this.buf.length - keep);
      if (!this.overflow) this.overflow = { sample: Buffer.from(discard.subarray(0, this.options.maxLength)), bytes: 0 };
      this.overflow.bytes += discard.length;
      this.buf = Buffer.from(this.buf.subarray(this.buf.length - keep));
    }
    if (this.buf.length > 0 && this.buf.buffer.byteLength > 4 * this.buf.length + 4096) this.buf = Buffer.from(this.buf);
    return out;
  }

  /**
   * End the current frame without its terminator (the device went away, or
   * the rest of the scan did not come in time). Returns it as unreadable,
   * unless nothing but CR/LF was pending.
   */
  flush(reason: string): Frame[] {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    if (this.overflow) {
      const frame = this.overflowFrame(rest.length);
      return [{ ...frame, reason: `${reason}; ${frame.reason}` }];
    }
    const body = this.term ? trimCrLf(rest) : rest;
    if (body.length === 0) return [];
    return [{ kind: 'unreadable', raw: Buffer.from(body), reason: `${reason} (${body.length} bytes without the end of the scan)` }];
  }

  private overflowFrame(tailBytes: number): Frame & { kind: 'unreadable' } {
    const o = this.overflow!;
    this.overflow = undefined;
    const total = o.bytes + tailBytes;
    return {
      kind: 'unreadable',
      raw: o.sample,
      reason: `scan of ${total} bytes is longer than maxLength ${this.options.maxLength} (first ${o.sample.length} bytes kept)`,
    };
  }

  private decode(body: Buffer, trim: boolean): Frame | undefined {
    const bytes = trim ? trimCrLf(body) : body;
    if (bytes.length === 0) return undefined;
    const text = decodeText(bytes);
    if (text === undefined) {
      return { kind: 'unreadable', raw: Buffer.from(bytes), reason: 'not text (binary data: check baudRate, dataBits, parity and stopBits)' };
    }
    const code = stripAffixes(text, this.options.stripPrefix, this.options.stripSuffix);
    const problem = unreadableReason(code);
    if (problem) return { kind: 'unreadable', raw: Buffer.from(bytes), reason: `not a barcode: ${problem}` };
    if (code.length === 0) return undefined;
    return { kind: 'scan', code };
  }
}
