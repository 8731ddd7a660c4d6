import { EV_KEY, EV_SYN, SYN_REPORT, encodeInputEvent, type EventSize, type InputEvent } from '../../../agent/protocols/keyboard-scanner/input-events';

/** Key codes from linux/input-event-codes.h, written out here so the tests do not borrow the decoder's own table. */
export const K = {
  ENTER: 28,
  KPENTER: 96,
  TAB: 15,
  BACKSPACE: 14,
  LEFTSHIFT: 42,
  RIGHTSHIFT: 54,
  LEFTCTRL: 29,
  LEFTALT: 56,
  CAPSLOCK: 58,
  F1: 59,
  RIGHTBRACE: 27,
  KP0: 82,
  KP2: 80,
  KP9: 73,
  A: 30,
} as const;

/** US keyboard rows: the first key code of each row and its keys, unshifted and shifted. */
const ROWS: Array<[number, string, string]> = [
  [2, '1234567890-=', '!@#$%^&*()_+'],
  [16, 'qwertyuiop[]', 'QWERTYUIOP{}'],
  [30, "asdfghjkl;'`", 'ASDFGHJKL:"~'],
  [43, '\\zxcvbnm,./', '|ZXCVBNM<>?'],
  [57, ' ', ' '],
];
const US = new Map<string, { code: number; shift: boolean }>();
for (const [first, plain, shifted] of ROWS) {
  [...plain].forEach((ch, i) => US.set(ch, { code: first + i, shift: false }));
  [...shifted].forEach((ch, i) => {
    if (!US.has(ch)) US.set(ch, { code: first + i, shift: true });
  });
}

/**
 * Builds the input events a US-layout keyboard scanner sends, as the kernel
 * would write them to /dev/input/eventN: key down, SYN, key up, SYN, with
 * Shift around upper-case letters and symbols. Independent of the decoder:
 * the key codes here are written out from linux/input-event-codes.h.
 */
export class KeyStream {
  readonly events: InputEvent[] = [];
  constructor(public timeMs = Date.UTC(2025, 5, 1, 8, 0, 0)) {}

  private ev(type: number, code: number, value: number): this {
    this.events.push({ timeMs: this.timeMs, type, code, value });
    return this;
  }

  syn(): this {
    return this.ev(EV_SYN, SYN_REPORT, 0);
  }

  /** Press and release one key (with optional modifier held around it). */
  tap(code: number, modifier?: number): this {
    if (modifier !== undefined) this.ev(EV_KEY, modifier, 1).syn();
    this.ev(EV_KEY, code, 1).syn().ev(EV_KEY, code, 0).syn();
    if (modifier !== undefined) this.ev(EV_KEY, modifier, 0).syn();
    this.timeMs += 2;
    return this;
  }

  down(code: number): this {
    return this.ev(EV_KEY, code, 1).syn();
  }

  up(code: number): this {
    return this.ev(EV_KEY, code, 0).syn();
  }

  raw(type: number, code: number, value: number): this {
    return this.ev(type, code, value);
  }

  /** Type text the way a US-layout scanner does. */
  text(s: string): this {
    for (const ch of s) {
      const k = US.get(ch);
      if (!k) throw new Error(`no US key for ${JSON.stringify(ch)}`);
      this.tap(k.code, k.shift ? K.LEFTSHIFT : undefined);
    }
    return this;
  }

  enter(): this {
    return this.tap(K.ENTER);
  }

  /** A whole scan: text then Enter. */
  scan(s: string): this {
    return this.text(s).enter();
  }

  bytes(size: EventSize = 24): Buffer {
    return Buffer.concat(this.events.map((e) => encodeInputEvent(e, size)));
  }
}
