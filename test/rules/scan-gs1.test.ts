import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GS,
  fullYear,
  gs1CheckDigit,
  gs1Date,
  gtinForms,
  hasGs1Marker,
  isGs1Code,
  isGtin,
  normalizeGtin,
  parseGs1,
  splitSymbology,
  type Gs1Data,
  type Gs1ParseOptions,
} from '../../agent/rules/kinds/scan-gs1';

// Published, known-valid numbers (GS1 examples and retail products).
const GTIN14 = '09506000134352'; // GS1's example GTIN
const EAN13 = '4006381333931';
const UPCA = '036000291452';
const EAN8 = '96385074';

const Y = { referenceYear: 2025 };

interface OkCase {
  name: string;
  code: string;
  options?: Gs1ParseOptions;
  expect: Partial<Gs1Data>;
}

const okCases: OkCase[] = [
  {
    name: 'GS1 DataMatrix: GTIN, expiry with day 00, lot, serial',
    code: `]d201${GTIN14}17250600` + `10ABC123${GS}21S42`,
    expect: {
      symbology: ']d2',
      gtin: GTIN14,
      expiry: '2025-06-30',
      lot: 'ABC123',
      serial: 'S42',
      ais: { '01': GTIN14, '17': '250600', '10': 'ABC123', '21': 'S42' },
    },
  },
  {
    name: 'GS1-128: net weight 310n with 3 decimals, lot last',
    code: `]C101${GTIN14}3103000750` + '10LOT7',
    expect: { symbology: ']C1', gtin: GTIN14, netWeightKg: 0.75, quantity: 0.75, quantityUnit: 'kg', lot: 'LOT7' },
  },
  {
    name: 'GS1-128: variable count AI 30 ends with GS',
    code: `]C101${GTIN14}3012${GS}10L1`,
    expect: { quantity: 12, quantityUnit: 'unit', lot: 'L1' },
  },
  {
    name: 'AI 30 wins over a net weight on the same label',
    code: `]C101${GTIN14}3102001250` + `305${GS}10L2`,
    expect: { quantity: 5, quantityUnit: 'unit', netWeightKg: 12.5 },
  },
  {
    name: 'logistic unit: content GTIN (02) and count (37)',
    code: `]C102${GTIN14}3748${GS}10L9${GS}`,
    expect: { content: GTIN14, quantity: 48, quantityUnit: 'unit', lot: 'L9' },
  },
  {
    name: 'production date, best before, packaging date',
    code: `]C101${GTIN14}11240115` + '15241231' + '13240116',
    expect: { productionDate: '2024-01-15', bestBefore: '2024-12-31', packagingDate: '2024-01-16' },
  },
  {
    name: 'GS1 QR with 7003 and company-internal 90',
    code: `]Q301${GTIN14}70032506301200${GS}90INTERNAL-7`,
    expect: { symbology: ']Q3', ais: { '01': GTIN14, '7003': '2506301200', '90': 'INTERNAL-7' } },
  },
  {
    name: 'leading FNC1 sent as GS, no symbology identifier',
    code: `${GS}01${GTIN14}10X`,
    expect: { gtin: GTIN14, lot: 'X' },
  },
  {
    name: 'human-readable form with parentheses',
    code: `(01)${GTIN14}(17)251231(10)ABC(21)7`,
    expect: { gtin: GTIN14, expiry: '2025-12-31', lot: 'ABC', serial: '7' },
  },
  {
    name: 'GS after a fixed-length field is tolerated',
    code: `]C101${GTIN14}${GS}10L3`,
    expect: { gtin: GTIN14, lot: 'L3' },
  },
  {
    name: 'scanner set to send "~" for FNC1',
    code: `]C101${GTIN14}10ABC~21S1`,
    options: { groupSeparator: '~' },
    expect: { lot: 'ABC', serial: 'S1' },
  },
  {
    name: 'bare element string when no marker is required',
    code: `01${GTIN14}10LOT5`,
    options: { requireMarker: false },
    expect: { gtin: GTIN14, lot: 'LOT5' },
  },
  {
    name: 'SSCC',
    code: ']C100106141411234567897',
    expect: { sscc: '106141411234567897' },
  },
  {
    name: 'same AI twice with the same value is accepted',
    code: `]C110A${GS}10A`,
    expect: { lot: 'A' },
  },
  {
    name: 'lot with every punctuation GS1 allows',
    code: `]C110!"%&'()*+,-./:;<=>?_`,
    expect: { lot: `!"%&'()*+,-./:;<=>?_` },
  },
];

describe('parseGs1: valid codes', () => {
  for (const c of okCases) {
    test(c.name, () => {
      const r = parseGs1(c.code, { ...Y, ...c.options });
      assert.ok(r.ok, r.ok ? '' : r.error);
      for (const [k, v] of Object.entries(c.expect)) {
        assert.deepEqual((r.data as unknown as Record<string, unknown>)[k], v, `field ${k}`);
      }
    });
  }
});

const errorCases: Array<{ name: string; code: string; options?: Gs1ParseOptions; error: RegExp }> = [
  { name: 'wrong GTIN check digit', code: `]C101${GTIN14.slice(0, 13)}3`, error: /\(01\).*check digit \(expected 2\)/ },
  { name: 'wrong SSCC check digit', code: ']C100106141411234567890', error: /\(00\).*check digit/ },
  { name: 'unknown AI', code: `]C101${GTIN14}8888123`, error: /unknown or missing application identifier at position 16/ },
  { name: 'lot longer than 20: GS separator missing', code: `]C110${'A'.repeat(25)}`, error: /at most 20.*separator missing/ },
  { name: 'month 13', code: `]C101${GTIN14}17251301`, error: /\(17\).*not a date/ },
  { name: 'February 31', code: `]C101${GTIN14}17250231`, error: /not a date/ },
  { name: 'fixed-length field cut short', code: ']C1011234', error: /data ends after 4 of 14/ },
  { name: 'GS inside a fixed-length field', code: `]C101095060${GS}0134352`, error: /data ends after 6 of 14/ },
  { name: 'no marker', code: `01${GTIN14}`, error: /not a GS1 code/ },
  { name: 'EAN-13 symbology carries no AIs', code: `]E0${EAN13}`, error: /symbology \]E0 does not carry/ },
  { name: 'same AI twice with different values', code: `]C110A${GS}10B`, error: /appears twice/ },
  { name: '01 and 02 together', code: `]C101${GTIN14}02${GTIN14}`, error: /must not appear together/ },
  { name: 'space in a lot', code: ']C110AB C', error: /characters GS1 does not allow/ },
  { name: 'letters in a count', code: `]C101${GTIN14}30A1`, error: /\(30\).*must be digits/ },
  { name: 'empty', code: `]C1${GS}`, error: /empty GS1 code/ },
  { name: 'human-readable form with unknown AI', code: '(01)09506000134352(8888)1', error: /unknown application identifier \(8888\)/ },
  { name: 'human-readable form with junk before it', code: '(01)09506000134352x(10)1', error: /\(01\).*15 characters, expected 14/ },
  { name: 'only a symbology identifier', code: ']d2', error: /empty GS1 code/ },
];

describe('parseGs1: errors', () => {
  for (const c of errorCases) {
    test(c.name, () => {
      const r = parseGs1(c.code, { ...Y, ...c.options });
      assert.equal(r.ok, false, `expected an error for ${JSON.stringify(c.code)}`);
      if (!r.ok) assert.match(r.error, c.error);
    });
  }
});

describe('GS1 dates', () => {
  const table: Array<[string, number, string | undefined]> = [
    ['240200', 2025, '2024-02-29'], // day 00: last day, leap year
    ['250200', 2025, '2025-02-28'],
    ['251100', 2025, '2025-11-30'],
    ['751231', 2025, '2075-12-31'], // 50 years ahead: this century
    ['760101', 2025, '1976-01-01'], // 51 years ahead: previous century
    ['400101', 2099, '2140-01-01'], // 59 years back: next century
    ['000229', 2025, '2000-02-29'],
    ['010229', 2025, undefined],
    ['250001', 2025, undefined],
    ['2501', 2025, undefined],
  ];
  for (const [yymmdd, ref, iso] of table) {
    test(`${yymmdd} (reference ${ref}) -> ${iso ?? 'invalid'}`, () => {
      assert.equal(gs1Date(yymmdd, ref), iso);
    });
  }
  test('fullYear window boundaries', () => {
    assert.equal(fullYear(75, 2025), 2075);
    assert.equal(fullYear(76, 2025), 1976);
    assert.equal(fullYear(74, 2024), 2074);
    assert.equal(fullYear(75, 2024), 1975);
  });
});

describe('GTIN', () => {
  test('check digits of published numbers', () => {
    for (const g of [GTIN14, EAN13, UPCA, EAN8, '5901234123457']) {
      assert.equal(gs1CheckDigit(g.slice(0, -1)), Number(g.at(-1)), g);
      assert.equal(isGtin(g), true, g);
    }
  });
  test('wrong check digit or length is not a GTIN', () => {
    for (const g of ['4006381333932', '03600029145', '123456789', 'ABCDEFGHIJKLM', '']) assert.equal(isGtin(g), false, g);
  });
  test('normalize to 14 digits', () => {
    assert.equal(normalizeGtin(EAN13), `0${EAN13}`);
    assert.equal(normalizeGtin(UPCA), `00${UPCA}`);
    assert.equal(normalizeGtin(EAN8), `000000${EAN8}`);
    assert.equal(normalizeGtin('4006381333932'), undefined);
  });
  test('forms a GTIN may be stored under', () => {
    assert.deepEqual(gtinForms(GTIN14), [GTIN14, GTIN14.slice(1)]);
    assert.deepEqual(gtinForms(UPCA), [`00${UPCA}`, `0${UPCA}`, UPCA]);
    assert.deepEqual(gtinForms(EAN8), [`000000${EAN8}`, `00000${EAN8}`, `0000${EAN8}`, EAN8]);
    assert.deepEqual(gtinForms('123'), []);
  });
});

describe('symbology identifiers and markers', () => {
  test('split', () => {
    assert.deepEqual(splitSymbology(']C1123'), { symbology: ']C1', body: '123', gs1: true, ean: false });
    assert.deepEqual(splitSymbology(`]E0${EAN13}`), { symbology: ']E0', body: EAN13, gs1: false, ean: true });
    assert.deepEqual(splitSymbology(']A0CODE39'), { symbology: ']A0', body: 'CODE39', gs1: false, ean: false });
    assert.deepEqual(splitSymbology('WH/MO/00042'), { body: 'WH/MO/00042', gs1: false, ean: false });
  });
  test('markers', () => {
    assert.equal(hasGs1Marker(`]d201${GTIN14}`), true);
    assert.equal(hasGs1Marker(`${GS}01${GTIN14}`), true);
    assert.equal(hasGs1Marker(`(01)${GTIN14}`), true);
    assert.equal(hasGs1Marker(`~01${GTIN14}`, { groupSeparator: '~' }), true);
    assert.equal(hasGs1Marker(`01${GTIN14}`), false);
    assert.equal(hasGs1Marker(']C0ABC'), false);
  });
});

describe('bare element strings', () => {
  test('an EAN-13 starting with 400 is not read as AI 400 (order number)', () => {
    assert.equal(parseGs1(EAN13, { requireMarker: false }).ok, true); // it would parse...
    assert.equal(isGs1Code(EAN13, { requireMarker: false }), false); // ...but is not taken as GS1
  });
  test('a bare string starting with a GTIN or SSCC is GS1 when allowed', () => {
    assert.equal(isGs1Code(`01${GTIN14}10A`, { requireMarker: false }), true);
    assert.equal(isGs1Code('00106141411234567897', { requireMarker: false }), true);
    assert.equal(isGs1Code(`01${GTIN14}10A`), false);
    assert.equal(isGs1Code(`01${GTIN14.slice(0, 13)}3`, { requireMarker: false }), false);
  });
});
