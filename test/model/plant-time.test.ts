import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dayStart, formatPlantTime, plantDay, shiftAt, shiftProblems, timeZoneProblem, zonedTime } from '../../agent/model/plant-time';

const BERLIN = 'Europe/Berlin';
const SHIFTS = [
  { name: 'early', start: '06:00' },
  { name: 'late', start: '14:00' },
  { name: 'night', start: '22:00' },
];
const utc = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ms: number) => ms / 3_600_000;

describe('plant time: zones', () => {
  it('knows IANA names and refuses others with a hint', () => {
    assert.equal(timeZoneProblem('Europe/Berlin'), undefined);
    assert.equal(timeZoneProblem('UTC'), undefined);
    assert.match(timeZoneProblem('Europe/Berlinn') ?? '', /"Europe\/Berlinn" is not a time zone this system knows: use an IANA name like Europe\/Berlin/);
    assert.match(timeZoneProblem('CEST+2') ?? '', /not a time zone/);
    assert.match(timeZoneProblem('') ?? '', /required/);
  });

  it('wall times to instants, in winter and summer', () => {
    assert.equal(iso(zonedTime({ year: 2026, month: 1, day: 15 }, 6, 0, BERLIN)), '2026-01-15T05:00:00.000Z');
    assert.equal(iso(zonedTime({ year: 2026, month: 7, day: 15 }, 6, 0, BERLIN)), '2026-07-15T04:00:00.000Z');
    assert.equal(iso(zonedTime({ year: 2026, month: 7, day: 15 }, 6, 0, 'America/Chicago')), '2026-07-15T11:00:00.000Z');
  });

  it('a time the clocks skip is the moment after the gap; a time they pass twice is the first', () => {
    // 29 March 2026: 02:00 CET -> 03:00 CEST. 25 October 2026: 03:00 CEST -> 02:00 CET.
    assert.equal(iso(zonedTime({ year: 2026, month: 3, day: 29 }, 2, 30, BERLIN)), '2026-03-29T01:00:00.000Z');
    assert.equal(formatPlantTime(zonedTime({ year: 2026, month: 3, day: 29 }, 2, 30, BERLIN), BERLIN), '2026-03-29 03:00');
    assert.equal(iso(zonedTime({ year: 2026, month: 10, day: 25 }, 2, 30, BERLIN)), '2026-10-25T00:30:00.000Z');
  });

  it('days: the plant date of an instant, and when a day begins', () => {
    assert.equal(plantDay(utc('2026-07-15T22:30:00Z'), BERLIN), '2026-07-16');
    assert.equal(plantDay(utc('2026-07-15T22:30:00Z'), 'UTC'), '2026-07-15');
    assert.equal(iso(dayStart('2026-03-29', BERLIN)), '2026-03-28T23:00:00.000Z');
    assert.equal(hours(dayStart('2026-03-30', BERLIN) - dayStart('2026-03-29', BERLIN)), 23);
    assert.equal(hours(dayStart('2026-10-26', BERLIN) - dayStart('2026-10-25', BERLIN)), 25);
  });
});

describe('plant time: shifts', () => {
  const table: Array<[name: string, at: string, shift: string, day: string, start: string, lasts: number]> = [
    ['early shift in winter', '2026-01-15T05:30:00Z', 'early', '2026-01-15', '2026-01-15T05:00:00.000Z', 8],
    ['early shift in summer', '2026-07-15T04:30:00Z', 'early', '2026-07-15', '2026-07-15T04:00:00.000Z', 8],
    ['a night shift belongs to the evening it began', '2026-07-16T01:00:00Z', 'night', '2026-07-15', '2026-07-15T20:00:00.000Z', 8],
    ['the night the clocks go forward lasts 7 hours', '2026-03-29T02:30:00Z', 'night', '2026-03-28', '2026-03-28T21:00:00.000Z', 7],
    ['the night the clocks go back lasts 9 hours', '2026-10-25T01:30:00Z', 'night', '2026-10-24', '2026-10-24T20:00:00.000Z', 9],
    ['the early shift after the spring change is 8 hours', '2026-03-29T05:00:00Z', 'early', '2026-03-29', '2026-03-29T04:00:00.000Z', 8],
    ['just before a change it is still the old shift', '2026-07-15T11:59:59.999Z', 'early', '2026-07-15', '2026-07-15T04:00:00.000Z', 8],
    ['at the change it is the new shift', '2026-07-15T12:00:00Z', 'late', '2026-07-15', '2026-07-15T12:00:00.000Z', 8],
  ];
  for (const [name, at, shift, day, start, lasts] of table) {
    it(name, () => {
      const s = shiftAt(utc(at), BERLIN, SHIFTS);
      assert.deepEqual([s.name, s.day, iso(s.startMs), hours(s.endMs - s.startMs)], [shift, day, start, lasts]);
    });
  }

  it('a shift that starts inside the spring gap starts at 03:00 local', () => {
    const s = shiftAt(utc('2026-03-29T01:10:00Z'), BERLIN, [
      { name: 'a', start: '02:30' },
      { name: 'b', start: '14:00' },
    ]);
    assert.deepEqual([s.name, iso(s.startMs)], ['a', '2026-03-29T01:00:00.000Z']);
  });

  it('one shift a day lasts a day (23 or 25 hours over a change)', () => {
    const one = [{ name: 'day', start: '06:00' }];
    assert.equal(hours(shiftAt(utc('2026-03-28T12:00:00Z'), BERLIN, one).endMs - shiftAt(utc('2026-03-28T12:00:00Z'), BERLIN, one).startMs), 23);
    assert.equal(hours(shiftAt(utc('2026-07-01T12:00:00Z'), BERLIN, one).endMs - shiftAt(utc('2026-07-01T12:00:00Z'), BERLIN, one).startMs), 24);
  });

  it('calendar problems name the shift and field', () => {
    assert.deepEqual(shiftProblems(SHIFTS), []);
    assert.deepEqual(
      shiftProblems([
        { name: 'early', start: '6:00' },
        { name: 'early', start: '14:00' },
        { name: 'late', start: '14:00' },
        { name: 'night', start: '24:00' },
      ]),
      [
        { path: [0, 'start'], message: '"6:00" is not a time of day: write it as HH:MM, 24-hour, like "06:00" or "22:30"' },
        { path: [1, 'name'], message: 'shift name "early" is already used by shifts[0]' },
        { path: [2, 'start'], message: 'shifts[1] already starts at 14:00' },
        { path: [3, 'start'], message: '"24:00" is not a time of day: write it as HH:MM, 24-hour, like "06:00" or "22:30"' },
      ],
    );
  });
});
