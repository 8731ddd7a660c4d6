/**
 * GS1 element strings, as read from GS1-128, GS1 DataMatrix, GS1 QR and
 * GS1 DataBar labels: `]d2` `01 09506000134352` `17 250600` `10 LOT42`.
 *
 * Pure: text in, parsed fields or an error out. The scanner sends FNC1 as the
 * GS character (0x1D) between variable-length fields; the symbology
 * identifier (`]C1`, `]d2`, `]Q3`, ...) is present when the scanner is set to
 * transmit it. The human-readable form with parentheses, `(01)...(10)...`,
 * is accepted too (labels typed in by hand, test data).
 */

/** The group separator: how scanners transmit FNC1 inside the data. */
export const GS = '\u001d';

/** Symbology identifiers whose data is a GS1 element string. */
const GS1_SYMBOLOGIES = new Set([']C1', ']d2', ']Q3', ']e0', ']J1']);
/** Symbology identifiers of EAN/UPC: the data is a plain GTIN. */
const EAN_SYMBOLOGIES = new Set([']E0', ']E4', ']X0']);

export interface Gs1Data {
  /** Symbology identifier sent by the scanner (`]C1`, `]d2`, `]Q3`, ...), when present. */
  symbology?: string;
  /** AI 01: GTIN of the trade item, 14 digits with a valid check digit. */
  gtin?: string;
  /** AI 02: GTIN of the trade items contained in a logistic unit. */
  content?: string;
  /** AI 00: serial shipping container code (pallet label). */
  sscc?: string;
  /** AI 10: batch or lot number. */
  lot?: string;
  /** AI 21: serial number. */
  serial?: string;
  /** Quantity on the label: AI 30 (variable count), else AI 37 (count of trade items), else AI 310n (net weight in kg). */
  quantity?: number;
  /** Unit of `quantity`: `unit` for counts (30, 37), `kg` for net weight (310n). */
  quantityUnit?: 'unit' | 'kg';
  /** AI 310n: net weight in kilograms. */
  netWeightKg?: number;
  /** AI 17: expiration date (ISO `YYYY-MM-DD`; day 00 on the label means the last day of the month). */
  expiry?: string;
  /** AI 15: best before date (ISO). */
  bestBefore?: string;
  /** AI 11: production date (ISO). */
  productionDate?: string;
  /** AI 13: packaging date (ISO). */
  packagingDate?: string;
  /** Every AI found, with its raw value as printed on the label. */
  ais: Record<string, string>;
}

export type Gs1Result = { ok: true; data: Gs1Data } | { ok: false; error: string };

export interface Gs1ParseOptions {
  /** Year used to place two-digit years in a century (GS1 sliding window). Default: the current year. */
  referenceYear?: number;
  /** A character or string some scanners are set to send instead of GS for FNC1 (for example `~`). */
  groupSeparator?: string;
  /** When false, a bare element string without symbology identifier, leading FNC1 or parentheses is parsed as GS1. Default true. */
  requireMarker?: boolean;
}

type ValueKind = 'text' | 'digits' | 'gtin' | 'sscc' | 'date' | 'count' | 'measure';

interface AiSpec {
  title: string;
  kind: ValueKind;
  min: number;
  max: number;
  /** Decimal places (from the last digit of 31nn-36nn AIs). */
  decimals?: number;
}

/** Data length of AIs whose length GS1 predefines by their first two digits: they are never followed by FNC1. */
const PREDEFINED_LENGTH: Record<string, number> = {
  '00': 18,
  '01': 14,
  '02': 14,
  '03': 14,
  '04': 16,
  '11': 6,
  '12': 6,
  '13': 6,
  '14': 6,
  '15': 6,
  '16': 6,
  '17': 6,
  '18': 6,
  '19': 6,
  '20': 2,
  '31': 6,
  '32': 6,
  '33': 6,
  '34': 6,
  '35': 6,
  '36': 6,
  '41': 13,
};

function buildAiTable(): Map<string, AiSpec> {
  const t = new Map<string, AiSpec>();
  t.set('00', { title: 'SSCC', kind: 'sscc', min: 18, max: 18 });
  t.set('01', { title: 'GTIN', kind: 'gtin', min: 14, max: 14 });
  t.set('02', { title: 'CONTENT', kind: 'gtin', min: 14, max: 14 });
  t.set('10', { title: 'BATCH/LOT', kind: 'text', min: 1, max: 20 });
  t.set('11', { title: 'PROD DATE', kind: 'date', min: 6, max: 6 });
  t.set('12', { title: 'DUE DATE', kind: 'date', min: 6, max: 6 });
  t.set('13', { title: 'PACK DATE', kind: 'date', min: 6, max: 6 });
  t.set('15', { title: 'BEST BEFORE', kind: 'date', min: 6, max: 6 });
  t.set('16', { title: 'SELL BY', kind: 'date', min: 6, max: 6 });
  t.set('17', { title: 'USE BY OR EXPIRY', kind: 'date', min: 6, max: 6 });
  t.set('20', { title: 'VARIANT', kind: 'digits', min: 2, max: 2 });
  t.set('21', { title: 'SERIAL', kind: 'text', min: 1, max: 20 });
  t.set('22', { title: 'CPV', kind: 'text', min: 1, max: 20 });
  t.set('240', { title: 'ADDITIONAL ID', kind: 'text', min: 1, max: 30 });
  t.set('241', { title: 'CUST. PART No.', kind: 'text', min: 1, max: 30 });
  t.set('250', { title: 'SECONDARY SERIAL', kind: 'text', min: 1, max: 30 });
  t.set('251', { title: 'REF. TO SOURCE', kind: 'text', min: 1, max: 30 });
  t.set('30', { title: 'VAR. COUNT', kind: 'count', min: 1, max: 8 });
  t.set('37', { title: 'COUNT', kind: 'count', min: 1, max: 8 });
  // 31nn-36nn: measures, six digits, the last digit of the AI is the number of decimals.
  for (let group = 31; group <= 36; group++) {
    for (let third = 0; third <= 9; third++) {
      for (let decimals = 0; decimals <= 5; decimals++) {
        const ai = `${group}${third}${decimals}`;
        const title = ai.startsWith('310') ? 'NET WEIGHT (kg)' : ai.startsWith('320') ? 'NET WEIGHT (lb)' : 'MEASURE';
        t.set(ai, { title, kind: 'measure', min: 6, max: 6, decimals });
      }
    }
  }
  t.set('400', { title: 'ORDER NUMBER', kind: 'text', min: 1, max: 30 });
  t.set('401', { title: 'GINC', kind: 'text', min: 1, max: 30 });
  for (let i = 0; i <= 7; i++) t.set(`41${i}`, { title: 'GLN', kind: 'digits', min: 13, max: 13 });
  t.set('420', { title: 'SHIP TO POST', kind: 'text', min: 1, max: 20 });
  t.set('422', { title: 'ORIGIN', kind: 'digits', min: 3, max: 3 });
  t.set('7003', { title: 'EXPIRY TIME', kind: 'digits', min: 10, max: 10 });
  t.set('90', { title: 'INTERNAL', kind: 'text', min: 1, max: 30 });
  for (let i = 91; i <= 99; i++) t.set(String(i), { title: 'INTERNAL', kind: 'text', min: 1, max: 90 });
  return t;
}

const AI_TABLE = buildAiTable();

/** The AIs this parser knows, for documentation and the status page. */
export function supportedAis(): string[] {
  return [...AI_TABLE.keys()];
}

/** GS1 AI encodable character set 82 (the characters allowed in alphanumeric AI values). */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/;

// ---------------------------------------------------------------------------
// GTIN

/** The GS1 mod-10 check digit of a string of digits (without its check digit). */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += d * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** True for digits whose last digit is the correct GS1 check digit. */
export function hasValidCheckDigit(code: string): boolean {
  if (!/^\d{2,}$/.test(code)) return false;
  return gs1CheckDigit(code.slice(0, -1)) === code.charCodeAt(code.length - 1) - 48;
}

/** True for a GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 with a valid check digit. */
export function isGtin(code: string): boolean {
  return /^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(code) && hasValidCheckDigit(code);
}

/** A GTIN-8/12/13/14 padded to 14 digits, or undefined if it is not a valid GTIN. */
export function normalizeGtin(code: string): string | undefined {
  return isGtin(code) ? code.padStart(14, '0') : undefined;
}

/**
 * The forms a GTIN may be stored under as a product barcode: GTIN-14, then
 * GTIN-13 (EAN-13), GTIN-12 (UPC-A) and GTIN-8 when the leading zeros allow.
 */
export function gtinForms(gtin: string): string[] {
  const g14 = normalizeGtin(gtin);
  if (!g14) return [];
  const forms = [g14];
  for (const len of [13, 12, 8]) {
    if (/^0+$/.test(g14.slice(0, 14 - len))) forms.push(g14.slice(14 - len));
  }
  return forms;
}

// ---------------------------------------------------------------------------
// Symbology identifier

export interface SymbologySplit {
  /** `]C1`, `]d2`, ... when the code begins with a symbology identifier. */
  symbology?: string;
  /** The data after the symbology identifier. */
  body: string;
  /** The identifier says the data is a GS1 element string. */
  gs1: boolean;
  /** The identifier says the data is an EAN/UPC number. */
  ean: boolean;
}

/** Split the ISO/IEC 15424 symbology identifier (`]` + letter + modifier) from the data. */
export function splitSymbology(code: string): SymbologySplit {
  const m = /^\][A-Za-z][0-9A-Za-z]/.exec(code);
  if (!m) return { body: code, gs1: false, ean: false };
  const symbology = m[0];
  return { symbology, body: code.slice(3), gs1: GS1_SYMBOLOGIES.has(symbology), ean: EAN_SYMBOLOGIES.has(symbology) };
}

/**
 * True when the code says it is GS1: a GS1 symbology identifier, a leading
 * FNC1 sent as GS, or the human-readable form beginning with `(AI)`.
 */
export function hasGs1Marker(code: string, options: Pick<Gs1ParseOptions, 'groupSeparator'> = {}): boolean {
  const split = splitSymbology(code);
  if (split.gs1) return true;
  const body = split.body;
  if (body.startsWith(GS)) return true;
  if (options.groupSeparator && body.startsWith(options.groupSeparator)) return true;
  return /^\(\d{2,4}\)/.test(body);
}

/**
 * True when the code is to be read as GS1: it has a marker, or (with
 * `requireMarker: false`) it is a bare element string that starts with an
 * SSCC or a GTIN (AI 00, 01, 02) and parses. A plain EAN-13 never qualifies,
 * even though "400..." would read as AI 400.
 */
export function isGs1Code(code: string, options: Gs1ParseOptions = {}): boolean {
  if (hasGs1Marker(code, options)) return true;
  if (options.requireMarker !== false) return false;
  const split = splitSymbology(code);
  if (split.symbology) return false;
  return /^(00\d{18}|0[12]\d{14})/.test(split.body) && parseGs1(code, options).ok;
}

// ---------------------------------------------------------------------------
// Dates

/** Full year for a two-digit GS1 year (GS1 General Specifications, 7.12: 49 years back, 50 ahead). */
export function fullYear(yy: number, referenceYear: number): number {
  const century = Math.floor(referenceYear / 100) * 100;
  const diff = yy - (referenceYear % 100);
  if (diff >= 51) return century - 100 + yy;
  if (diff <= -50) return century + 100 + yy;
  return century + yy;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** YYMMDD to ISO `YYYY-MM-DD`; day 00 is the last day of the month. Undefined when it is not a date. */
export function gs1Date(yymmdd: string, referenceYear: number): string | undefined {
  if (!/^\d{6}$/.test(yymmdd)) return undefined;
  const year = fullYear(Number(yymmdd.slice(0, 2)), referenceYear);
  const month = Number(yymmdd.slice(2, 4));
  let day = Number(yymmdd.slice(4, 6));
  if (month < 1 || month > 12) return undefined;
  const last = daysInMonth(year, month);
  if (day === 0) day = last;
  if (day > last) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------
// Parsing

function findAi(data: string, pos: number): string | undefined {
  for (const len of [2, 3, 4]) {
    const candidate = data.slice(pos, pos + len);
    if (candidate.length === len && AI_TABLE.has(candidate)) return candidate;
  }
  return undefined;
}

function checkValue(ai: string, spec: AiSpec, value: string): string | undefined {
  if (value.length < spec.min || value.length > spec.max) {
    const expected = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
    return `AI (${ai}) ${spec.title}: ${value.length} characters, expected ${expected}`;
  }
  if (spec.kind === 'text') {
    if (!CSET82.test(value)) return `AI (${ai}) ${spec.title}: "${printable(value)}" has characters GS1 does not allow`;
    return undefined;
  }
  if (!/^\d+$/.test(value)) return `AI (${ai}) ${spec.title}: "${printable(value)}" must be digits`;
  if ((spec.kind === 'gtin' || spec.kind === 'sscc') && !hasValidCheckDigit(value)) {
    return `AI (${ai}) ${spec.title}: ${value} has a wrong check digit (expected ${gs1CheckDigit(value.slice(0, -1))})`;
  }
  return undefined;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `<${c.charCodeAt(0).toString(16).padStart(2, '0')}>`);
}

type Pairs = Array<[string, string]>;

function splitElementString(data: string): { pairs: Pairs } | { error: string } {
  const pairs: Pairs = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === GS) {
      pos++;
      continue;
    }
    const ai = findAi(data, pos);
    if (!ai) return { error: `unknown or missing application identifier at position ${pos}: "${printable(data.slice(pos, pos + 4))}"` };
    pos += ai.length;
    const spec = AI_TABLE.get(ai)!;
    const predefined = PREDEFINED_LENGTH[ai.slice(0, 2)];
    let value: string;
    if (predefined !== undefined) {
      value = data.slice(pos, pos + predefined);
      if (value.length < predefined || value.includes(GS)) {
        return { error: `AI (${ai}) ${spec.title}: data ends after ${value.split(GS)[0]!.length} of ${predefined} characters` };
      }
      pos += predefined;
    } else {
      let end = data.indexOf(GS, pos);
      if (end < 0) end = data.length;
      value = data.slice(pos, end);
      if (value.length > spec.max) {
        return { error: `AI (${ai}) ${spec.title}: ${value.length} characters, at most ${spec.max} (is a GS separator missing after it?)` };
      }
      pos = end;
    }
    pairs.push([ai, value]);
  }
  return { pairs };
}

function splitHumanReadable(data: string): { pairs: Pairs } | { error: string } {
  const pairs: Pairs = [];
  const re = /\((\d{2,4})\)([^(]*)/y;
  let pos = 0;
  while (pos < data.length) {
    re.lastIndex = pos;
    const m = re.exec(data);
    if (!m) return { error: `expected "(AI)" at position ${pos}: "${printable(data.slice(pos, pos + 6))}"` };
    const ai = m[1]!;
    if (!AI_TABLE.has(ai)) return { error: `unknown application identifier (${ai})` };
    pairs.push([ai, m[2]!]);
    pos = re.lastIndex;
  }
  return { pairs };
}

/**
 * Parse a scanned GS1 code. Accepts an optional symbology identifier, FNC1
 * sent as GS (leading, between fields, trailing), or the `(AI)value` form.
 * Every value is checked against its AI: length, digits, check digit, date.
 */
export function parseGs1(code: string, options: Gs1ParseOptions = {}): Gs1Result {
  const referenceYear = options.referenceYear ?? new Date().getUTCFullYear();
  const split = splitSymbology(code);
  if (split.symbology && !split.gs1) {
    return { ok: false, error: `symbology ${split.symbology} does not carry GS1 application identifiers` };
  }
  let body = split.body;
  if (options.groupSeparator) body = body.split(options.groupSeparator).join(GS);
  const marked = split.gs1 || body.startsWith(GS) || /^\(\d{2,4}\)/.test(body);
  if (!marked && options.requireMarker !== false) {
    return { ok: false, error: 'not a GS1 code (no symbology identifier, leading FNC1 or "(AI)")' };
  }
  if (body.split(GS).join('').length === 0) return { ok: false, error: 'empty GS1 code' };

  const parts = body.startsWith('(') ? splitHumanReadable(body) : splitElementString(body);
  if ('error' in parts) return { ok: false, error: parts.error };

  const data: Gs1Data = { ais: {} };
  if (split.symbology) data.symbology = split.symbology;
  for (const [ai, value] of parts.pairs) {
    const spec = AI_TABLE.get(ai)!;
    const problem = checkValue(ai, spec, value);
    if (problem) return { ok: false, error: problem };
    const previous = data.ais[ai];
    if (previous !== undefined && previous !== value) return { ok: false, error: `AI (${ai}) appears twice with different values` };
    data.ais[ai] = value;
  }

  for (const [ai, value] of Object.entries(data.ais)) {
    const spec = AI_TABLE.get(ai)!;
    if (spec.kind === 'date') {
      const iso = gs1Date(value, referenceYear);
      if (!iso) return { ok: false, error: `AI (${ai}) ${spec.title}: ${value} is not a date (YYMMDD)` };
      if (ai === '17') data.expiry = iso;
      else if (ai === '15') data.bestBefore = iso;
      else if (ai === '11') data.productionDate = iso;
      else if (ai === '13') data.packagingDate = iso;
    }
  }
  const a = data.ais;
  if (a['01'] !== undefined) data.gtin = a['01'];
  if (a['02'] !== undefined) data.content = a['02'];
  if (a['00'] !== undefined) data.sscc = a['00'];
  if (a['10'] !== undefined) data.lot = a['10'];
  if (a['21'] !== undefined) data.serial = a['21'];
  if (a['01'] !== undefined && a['02'] !== undefined) return { ok: false, error: 'AI (01) and AI (02) must not appear together' };

  const weightAi = Object.keys(a).find((k) => k.startsWith('310'));
  if (weightAi) data.netWeightKg = Number(a[weightAi]) / 10 ** AI_TABLE.get(weightAi)!.decimals!;
  if (a['30'] !== undefined) {
    data.quantity = Number(a['30']);
    data.quantityUnit = 'unit';
  } else if (a['37'] !== undefined) {
    data.quantity = Number(a['37']);
    data.quantityUnit = 'unit';
  } else if (data.netWeightKg !== undefined) {
    data.quantity = data.netWeightKg;
    data.quantityUnit = 'kg';
  }
  return { ok: true, data };
}
