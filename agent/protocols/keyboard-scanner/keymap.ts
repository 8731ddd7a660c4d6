/**
 * Linux key codes (linux/input-event-codes.h) to characters for a scanner set
 * to a US keyboard layout. Pure.
 *
 * Set the scanner to the US layout: it then sends the key a US keyboard
 * would need for each character, whatever the gateway's console layout is.
 */

export const KEY = {
  ESC: 1,
  BACKSPACE: 14,
  TAB: 15,
  ENTER: 28,
  LEFTCTRL: 29,
  LEFTSHIFT: 42,
  RIGHTSHIFT: 54,
  LEFTALT: 56,
  CAPSLOCK: 58,
  NUMLOCK: 69,
  KPENTER: 96,
  RIGHTCTRL: 97,
  RIGHTALT: 100,
  RIGHTBRACE: 27,
} as const;

/** [unshifted, shifted] characters of the keys of the main block. */
const MAIN: Record<number, readonly [string, string]> = {
  2: ['1', '!'],
  3: ['2', '@'],
  4: ['3', '#'],
  5: ['4', '$'],
  6: ['5', '%'],
  7: ['6', '^'],
  8: ['7', '&'],
  9: ['8', '*'],
  10: ['9', '('],
  11: ['0', ')'],
  12: ['-', '_'],
  13: ['=', '+'],
  16: ['q', 'Q'],
  17: ['w', 'W'],
  18: ['e', 'E'],
  19: ['r', 'R'],
  20: ['t', 'T'],
  21: ['y', 'Y'],
  22: ['u', 'U'],
  23: ['i', 'I'],
  24: ['o', 'O'],
  25: ['p', 'P'],
  26: ['[', '{'],
  27: [']', '}'],
  30: ['a', 'A'],
  31: ['s', 'S'],
  32: ['d', 'D'],
  33: ['f', 'F'],
  34: ['g', 'G'],
  35: ['h', 'H'],
  36: ['j', 'J'],
  37: ['k', 'K'],
  38: ['l', 'L'],
  39: [';', ':'],
  40: ["'", '"'],
  41: ['`', '~'],
  43: ['\\', '|'],
  44: ['z', 'Z'],
  45: ['x', 'X'],
  46: ['c', 'C'],
  47: ['v', 'V'],
  48: ['b', 'B'],
  49: ['n', 'N'],
  50: ['m', 'M'],
  51: [',', '<'],
  52: ['.', '>'],
  53: ['/', '?'],
  57: [' ', ' '],
};

/** Keypad keys (NumLock on, as scanners assume). */
const KEYPAD: Record<number, string> = {
  71: '7',
  72: '8',
  73: '9',
  74: '-',
  75: '4',
  76: '5',
  77: '6',
  78: '+',
  79: '1',
  80: '2',
  81: '3',
  82: '0',
  83: '.',
  55: '*',
  98: '/',
};

const KEYPAD_DIGIT: Record<number, number> = { 82: 0, 79: 1, 80: 2, 81: 3, 75: 4, 76: 5, 77: 6, 71: 7, 72: 8, 73: 9 };

export interface Modifiers {
  shift: boolean;
  capsLock: boolean;
}

/** The character a key press types, or undefined for keys that type nothing (modifiers, function keys). */
export function keyChar(code: number, mods: Modifiers): string | undefined {
  const pair = MAIN[code];
  if (pair) {
    const letter = /^[a-z]$/.test(pair[0]);
    const upper = letter ? mods.shift !== mods.capsLock : mods.shift;
    return upper ? pair[1] : pair[0];
  }
  return KEYPAD[code];
}

/** The digit of a keypad key (for Alt + keypad character codes), or undefined. */
export function keypadDigit(code: number): number | undefined {
  return KEYPAD_DIGIT[code];
}

export function isShift(code: number): boolean {
  return code === KEY.LEFTSHIFT || code === KEY.RIGHTSHIFT;
}

export function isCtrl(code: number): boolean {
  return code === KEY.LEFTCTRL || code === KEY.RIGHTCTRL;
}

export function isAlt(code: number): boolean {
  return code === KEY.LEFTALT || code === KEY.RIGHTALT;
}

const REVERSE = new Map<string, { code: number; shift: boolean }>();
for (const [code, [plain, shifted]] of Object.entries(MAIN)) {
  if (!REVERSE.has(plain)) REVERSE.set(plain, { code: Number(code), shift: false });
  if (!REVERSE.has(shifted)) REVERSE.set(shifted, { code: Number(code), shift: true });
}

/** The key (and whether Shift is held) a US keyboard uses to type `char`; undefined when none does. */
export function keyForChar(char: string): { code: number; shift: boolean } | undefined {
  return REVERSE.get(char);
}
