import { stripAffixes, unreadableReason } from '../scanner/code-text';
import { KEY, isAlt, isCtrl, isShift, keyChar, keypadDigit } from './keymap';

/**
 * Linux input events of a keyboard-mode scanner to scanned codes. Pure:
 * bytes -> input events -> key presses -> codes.
 *
 * A `struct input_event` is a timeval (two C longs: 16 bytes on 64-bit
 * systems, 8 on 32-bit ones), then type (u16), code (u16) and value (s32),
 * little-endian on the gateways we run on (x86-64, arm64, armhf).
 */

export const EV_SYN = 0;
export const EV_KEY = 1;
export const SYN_REPORT = 0;
/** The kernel lost events because the reader was too slow. */
export const SYN_DROPPED = 3;

/** Size of one input event record in bytes. */
export type EventSize = 16 | 24;

export interface InputEvent {
  /** Event time from the kernel, ms since the epoch. */
  timeMs: number;
  type: number;
  code: number;
  /** For keys: 1 press, 0 release, 2 auto-repeat. */
  value: number;
}

const SIXTY_FOUR_BIT = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'mips64', 'mips64el', 'loong64']);

/** The event record size of a Node `process.arch`. */
export function eventSizeForArch(arch: string): EventSize {
  return SIXTY_FOUR_BIT.has(arch) ? 24 : 16;
}

/** One input event as the kernel writes it (used by tests and by the docs' examples). */
export function encodeInputEvent(ev: InputEvent, size: EventSize = 24): Buffer {
  const b = Buffer.alloc(size);
  const sec = Math.floor(ev.timeMs / 1000);
  const usec = Math.round((ev.timeMs - sec * 1000) * 1000);
  let o: number;
  if (size === 24) {
    b.writeBigInt64LE(BigInt(sec), 0);
    b.writeBigInt64LE(BigInt(usec), 8);
    o = 16;
  } else {
    b.writeUInt32LE(sec >>> 0, 0);
    b.writeUInt32LE(usec, 4);
    o = 8;
  }
  b.writeUInt16LE(ev.type, o);
  b.writeUInt16LE(ev.code, o + 2);
  b.writeInt32LE(ev.value, o + 4);
  return b;
}

/** Cuts a byte stream into input events; a record split across reads is kept until complete. */
export class InputEventReader {
  private rest: Buffer = Buffer.alloc(0);

  constructor(readonly size: EventSize) {}

  push(chunk: Buffer): InputEvent[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: InputEvent[] = [];
    let o = 0;
    for (; o + this.size <= buf.length; o += this.size) {
      let timeMs: number;
      let p: number;
      if (this.size === 24) {
        timeMs = Number(buf.readBigInt64LE(o)) * 1000 + Number(buf.readBigInt64LE(o + 8)) / 1000;
        p = o + 16;
      } else {
        timeMs = buf.readUInt32LE(o) * 1000 + buf.readUInt32LE(o + 4) / 1000;
        p = o + 8;
      }
      out.push({ timeMs: Math.floor(timeMs), type: buf.readUInt16LE(p), code: buf.readUInt16LE(p + 2), value: buf.readInt32LE(p + 4) });
    }
    this.rest = Buffer.from(buf.subarray(o));
    return out;
  }

  /** Bytes of an incomplete record held back. */
  get pendingBytes(): number {
    return this.rest.length;
  }
}

export interface KeyboardDecoderOptions {
  /** The key that ends a scan: Enter (main or keypad) or Tab. */
  terminator: 'enter' | 'tab';
  /** Longest scan in characters. */
  maxLength: number;
  stripPrefix: string;
  stripSuffix: string;
}

export type KeyboardScan = { kind: 'scan'; code: string; timeMs: number } | { kind: 'unreadable'; raw: string; reason: string; timeMs: number };

/**
 * Key presses to scans. Handles Shift, Caps Lock, Ctrl + key (Ctrl+] is GS,
 * the GS1 separator) and Alt + keypad digits (Alt 0029 is GS too: scanners
 * use either to type characters a keyboard has no key for).
 */
export class KeyboardScanDecoder {
  private text = '';
  /** What was typed, with keys that type nothing shown as <key N>: kept for an unreadable scan. */
  private trace = '';
  private problem: string | undefined;
  private tooLong = 0;
  private readonly shiftKeys = new Set<number>();
  private readonly ctrlKeys = new Set<number>();
  private readonly altKeys = new Set<number>();
  private altDigits = '';
  private capsLock = false;
  private dropping = false;

  constructor(private readonly options: KeyboardDecoderOptions) {}

  /** Characters typed since the last scan ended. */
  get pendingChars(): number {
    return this.text.length + this.tooLong;
  }

  push(ev: InputEvent): KeyboardScan | undefined {
    if (ev.type === EV_SYN) {
      if (ev.code === SYN_DROPPED) {
        this.dropping = true;
        this.problem ??= 'key events were lost (the agent read the scanner too slowly)';
        this.trace += '<events lost>';
        // The state of the modifiers is unknown now.
        this.shiftKeys.clear();
        this.ctrlKeys.clear();
        this.altKeys.clear();
        this.altDigits = '';
      } else if (ev.code === SYN_REPORT) {
        this.dropping = false;
      }
      return undefined;
    }
    if (ev.type !== EV_KEY || this.dropping) return undefined;
    const { code, value } = ev;

    if (isShift(code) || isCtrl(code)) {
      const held = isShift(code) ? this.shiftKeys : this.ctrlKeys;
      if (value === 0) held.delete(code);
      else held.add(code);
      return undefined;
    }
    if (isAlt(code)) {
      if (value !== 0) this.altKeys.add(code);
      else {
        this.altKeys.delete(code);
        if (this.altKeys.size === 0 && this.altDigits) {
          this.type(String.fromCharCode(Number(this.altDigits) % 256));
          this.altDigits = '';
        }
      }
      return undefined;
    }
    if (value !== 1) return undefined; // releases and auto-repeat type nothing
    if (code === KEY.CAPSLOCK) {
      this.capsLock = !this.capsLock;
      return undefined;
    }
    if (code === KEY.NUMLOCK) return undefined;

    const terminator = this.options.terminator === 'enter' ? code === KEY.ENTER || code === KEY.KPENTER : code === KEY.TAB;
    if (terminator) return this.finish(ev.timeMs);

    if (this.altKeys.size > 0) {
      const digit = keypadDigit(code);
      if (digit !== undefined) {
        this.altDigits += String(digit);
        return undefined;
      }
    }
    if (code === KEY.BACKSPACE) {
      this.text = this.text.slice(0, -1);
      this.trace += '<backspace>';
      return undefined;
    }
    const shift = this.shiftKeys.size > 0;
    const ch = keyChar(code, { shift, capsLock: this.capsLock });
    if (ch === undefined) {
      this.problem ??= `key code ${code} types no character`;
      this.trace += `<key ${code}>`;
      return undefined;
    }
    if (this.ctrlKeys.size > 0) {
      const upper = ch.toUpperCase().charCodeAt(0);
      if (upper >= 0x40 && upper <= 0x5f) this.type(String.fromCharCode(upper - 0x40));
      else {
        this.problem ??= `Ctrl+${ch} types no character`;
        this.trace += `<ctrl ${ch}>`;
      }
      return undefined;
    }
    this.type(ch);
    return undefined;
  }

  /** End the scan in progress without its terminator (the device went away). Undefined when nothing was typed. */
  flush(reason: string, timeMs: number): KeyboardScan | undefined {
    const pending = this.trace.length > 0;
    const raw = this.trace;
    this.reset();
    if (!pending) return undefined;
    return { kind: 'unreadable', raw, reason, timeMs };
  }

  private type(ch: string): void {
    if (this.text.length >= this.options.maxLength) {
      this.tooLong++;
      return;
    }
    this.text += ch;
    this.trace += ch;
  }

  private reset(): void {
    this.text = '';
    this.trace = '';
    this.problem = undefined;
    this.tooLong = 0;
    this.altDigits = '';
  }

  private finish(timeMs: number): KeyboardScan | undefined {
    const text = this.text;
    const raw = this.trace;
    const problem = this.problem;
    const extra = this.tooLong;
    this.reset();
    if (problem) return { kind: 'unreadable', raw, reason: problem, timeMs };
    if (extra > 0) {
      return {
        kind: 'unreadable',
        raw,
        reason: `scan of ${text.length + extra} characters is longer than maxLength ${this.options.maxLength} (first ${text.length} kept)`,
        timeMs,
      };
    }
    const code = stripAffixes(text, this.options.stripPrefix, this.options.stripSuffix);
    const bad = unreadableReason(code);
    if (bad) return { kind: 'unreadable', raw, reason: `not a barcode: ${bad}`, timeMs };
    if (code.length === 0) return undefined; // a lone Enter
    return { kind: 'scan', code, timeMs };
  }
}

/** Convenience for tests and tools: a whole byte stream to its scans. */
export function decodeKeyboardScans(bytes: Buffer, options: KeyboardDecoderOptions & { eventSize: EventSize }): KeyboardScan[] {
  const reader = new InputEventReader(options.eventSize);
  const decoder = new KeyboardScanDecoder(options);
  const out: KeyboardScan[] = [];
  for (const ev of reader.push(bytes)) {
    const scan = decoder.push(ev);
    if (scan) out.push(scan);
  }
  return out;
}
