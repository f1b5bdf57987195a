import { describe, expect, it } from 'vitest';
import { deployGate, windowProblems, type DeployWindow, type Freeze } from './deploy-window.ts';

const at = (iso: string) => Date.parse(iso);
const berlinOffice: DeployWindow = { days: ['mon', 'tue', 'wed', 'thu'], start: '09:00', end: '16:00', timeZone: 'Europe/Berlin' };
const gate = (windows: DeployWindow[], freezes: Freeze[], iso: string) => deployGate({ windows, freezes }, at(iso));

describe('deployGate', () => {
  it.each([
    // Winter: Berlin is UTC+1.
    ['inside, on a Monday morning in winter', '2026-11-30T08:00:00Z', true, null],
    ['before the window opens: at 08:59 local', '2026-11-30T07:59:00Z', false, '2026-11-30T08:00:00.000Z'],
    ['at the end (exclusive): 16:00 local', '2026-11-30T15:00:00Z', false, '2026-12-01T08:00:00.000Z'],
    ['Thursday evening waits until Monday', '2026-12-03T18:00:00Z', false, '2026-12-07T08:00:00.000Z'],
    ['Sunday waits for Monday', '2026-12-06T12:00:00Z', false, '2026-12-07T08:00:00.000Z'],
    // Summer: Berlin is UTC+2, the same local window is an hour earlier in UTC.
    ['inside in summer', '2026-07-06T07:30:00Z', true, null],
    ['outside in summer, opening at 07:00 UTC', '2026-07-06T06:30:00Z', false, '2026-07-06T07:00:00.000Z'],
  ])('%s', (_name, now, open, opensAt) => {
    const result = gate([berlinOffice], [], now);
    expect(result.open).toBe(open);
    expect(result.opensAt === null ? null : new Date(result.opensAt).toISOString()).toBe(opensAt);
    if (!open) expect(result.reason).toMatch(/^outside the deploy windows \(mon,tue,wed,thu 09:00–16:00 Europe\/Berlin; opens /);
  });

  it('crosses the daylight-saving change: the Monday after clocks go forward opens at 07:00 UTC', () => {
    // Europe/Berlin leaves winter time on Sunday 2027-03-28.
    const result = gate([berlinOffice], [], '2027-03-26T16:00:00Z'); // Friday
    expect(new Date(result.opensAt!).toISOString()).toBe('2027-03-29T07:00:00.000Z');
    const back = gate([berlinOffice], [], '2026-10-23T16:00:00Z'); // clocks go back on 2026-10-25
    expect(new Date(back.opensAt!).toISOString()).toBe('2026-10-26T08:00:00.000Z');
  });

  it('a window that starts in the hour DST skips opens just after the jump', () => {
    const night: DeployWindow = { days: ['sun'], start: '02:30', end: '05:00', timeZone: 'Europe/Berlin' };
    const result = gate([night], [], '2027-03-27T12:00:00Z');
    expect(new Date(result.opensAt!).toISOString()).toBe('2027-03-28T01:30:00.000Z'); // 03:30 CEST
  });

  it('works in any zone: New York and Kolkata', () => {
    const ny: DeployWindow = { days: ['mon'], start: '09:00', end: '10:00', timeZone: 'America/New_York' };
    expect(gate([ny], [], '2026-11-30T14:30:00Z').open).toBe(true); // 09:30 EST
    const kolkata: DeployWindow = { days: ['tue'], start: '10:00', end: '11:00', timeZone: 'Asia/Kolkata' };
    expect(new Date(gate([kolkata], [], '2026-11-30T00:00:00Z').opensAt!).toISOString()).toBe('2026-12-01T04:30:00.000Z');
  });

  it('a freeze closes an open window and moves the opening past its end', () => {
    const freeze: Freeze = { from: '2026-12-21T00:00:00Z', to: '2026-12-28T12:00:00Z', reason: 'holidays' };
    const result = gate([berlinOffice], [freeze], '2026-12-22T09:00:00Z');
    expect(result.open).toBe(false);
    expect(result.reason).toMatch(/^frozen until 2026-12-28T12:00:00Z: holidays/);
    expect(new Date(result.opensAt!).toISOString()).toBe('2026-12-28T12:00:00.000Z'); // Monday 13:00 in Berlin: inside the window
    expect(gate([], [freeze], '2026-12-28T12:00:00Z').open).toBe(true);
  });

  it('no windows means always open, unless frozen', () => {
    expect(gate([], [], '2026-12-25T03:00:00Z')).toEqual({ open: true, reason: null, opensAt: null });
  });
});

describe('windowProblems', () => {
  it.each([
    [[{ days: ['mon'], start: '17:00', end: '09:00', timeZone: 'UTC' }], 'policy.windows[0].end'],
    [[{ days: ['mon'], start: '09:00', end: '17:00', timeZone: 'Mars/Olympus' }], 'policy.windows[0].timeZone'],
    [[{ days: ['someday'], start: '09:00', end: '17:00', timeZone: 'UTC' }], 'policy.windows[0].days'],
    [[{ days: [], start: '09:00', end: '17:00', timeZone: 'UTC' }], 'policy.windows[0].days'],
    [[{ days: ['mon'], start: '9am', end: '17:00', timeZone: 'UTC' }], 'policy.windows[0].start'],
    [
      [
        { days: ['mon', 'tue'], start: '09:00', end: '12:00', timeZone: 'UTC' },
        { days: ['tue'], start: '11:00', end: '15:00', timeZone: 'UTC' },
      ],
      'policy.windows[1]',
    ],
  ])('refuses %j at %s', (windows, path) => {
    expect(windowProblems(windows, []).map((p) => p.path)).toContain(path);
  });

  it.each([
    [{ from: '2026-12-24', to: '2026-12-27T00:00:00Z', reason: 'x' }, 'policy.freezes[0].from'],
    [{ from: '2026-12-24T00:00:00', to: '2026-12-27T00:00:00Z', reason: 'x' }, 'policy.freezes[0].from'],
    [{ from: '2026-12-24T00:00:00Z', to: '2026-12-23T00:00:00Z', reason: 'x' }, 'policy.freezes[0].to'],
    [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', reason: '' }, 'policy.freezes[0].reason'],
    [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', reason: 'x', until: 'forever' }, 'policy.freezes[0].until'],
  ])('refuses the freeze %j at %s', (freeze, path) => {
    expect(windowProblems([], [freeze]).map((p) => p.path)).toContain(path);
  });

  const shape = 'must be a full ISO date-time with a zone, such as 2026-12-24T00:00:00Z';
  const exists = 'must be a date and time that exists, from 1970 on (month 01–12, a day of that month, 00:00–23:59:59)';
  it.each([
    ['a date alone', '2026-12-24', shape],
    ['words', 'Dec 24', shape],
    ['words with a year', 'December 24, 2026 00:00 UTC', shape],
    ['a local time with no zone', '2026-12-24T00:00:00', shape],
    ['a space instead of T', '2026-12-24 00:00:00Z', shape],
    ['epoch milliseconds', 1798070400000, shape],
    ['nothing', undefined, shape],
    // JavaScript's Date.parse takes these and means another day.
    ['February 30th', '2026-02-30T00:00:00Z', exists],
    ['February 29th of a common year', '2027-02-29T00:00:00Z', exists],
    ['hour 24', '2026-12-24T24:00:00Z', exists],
    ['month 13', '2026-13-01T00:00:00Z', exists],
    ['year 0', '0000-01-01T00:00:00Z', exists],
    ['an offset of +15:00', '2026-12-24T00:00:00+15:00', 'must have a zone offset between -14:00 and +14:00'],
  ])('refuses a freeze that starts at %s', (_name, from, message) => {
    expect(windowProblems([], [{ from, to: '2026-12-27T00:00:00Z', reason: 'holidays' }])).toContainEqual({ path: 'policy.freezes[0].from', message });
  });

  it('refuses a freeze longer than 366 days: a freeze is for holidays and incidents, not forever', () => {
    expect(windowProblems([], [{ from: '2026-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z', reason: 'forever' }])).toEqual([
      { path: 'policy.freezes[0].to', message: 'must be at most 366 days after from (renew the freeze if it must last longer)' },
    ]);
    expect(windowProblems([], [{ from: '2028-01-01T00:00:00Z', to: '2029-01-01T00:00:00Z', reason: 'a leap year' }])).toEqual([]);
  });

  it('accepts every full form: seconds or not, fractions, Z or an offset, a leap day', () => {
    for (const from of ['2026-12-24T00:00Z', '2026-12-24T00:00:00.123456789Z', '2026-12-23T23:00-01:00', '2028-02-29T12:00:00+14:00'])
      expect(
        windowProblems([], [{ from, to: '2029-01-01T00:00:00Z', reason: 'x' }]).filter((p) => p.path.endsWith('.from')),
        from,
      ).toEqual([]);
  });

  it('accepts adjacent windows and windows in other zones', () => {
    expect(
      windowProblems(
        [
          { days: ['mon'], start: '09:00', end: '12:00', timeZone: 'UTC' },
          { days: ['mon'], start: '12:00', end: '15:00', timeZone: 'UTC' },
          { days: ['mon'], start: '10:00', end: '11:00', timeZone: 'Asia/Tokyo' },
        ],
        [{ from: '2026-12-24T00:00:00+01:00', to: '2026-12-27T00:00:00.000Z', reason: 'holidays' }],
      ),
    ).toEqual([]);
  });
});
