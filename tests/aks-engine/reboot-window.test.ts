/** The reboot window grammar and its evaluation with Intl time zones (DST included). */
import assert from 'node:assert/strict';
import { describeTime, inWindow, nextOpening, parseRebootWindow, windowEnd } from '../../src/aks-engine/reboot/window';
import { InputError } from '../../src/shared/errors';

const utc = (s: string): number => Date.parse(s);

describe('reboot window', () => {
  it('Sat 01:00-05:00 Europe/Berlin: open on Saturday 01:00 local (00:00Z in winter), closed at 05:00', () => {
    const w = parseRebootWindow('Sat 01:00-05:00 Europe/Berlin');
    assert.equal(inWindow(w, utc('2026-12-11T23:59:00Z')), false, 'Sat 00:59 Berlin');
    assert.equal(inWindow(w, utc('2026-12-12T00:00:00Z')), true, 'Sat 01:00 Berlin');
    assert.equal(inWindow(w, utc('2026-12-12T03:59:00Z')), true, 'Sat 04:59 Berlin');
    assert.equal(inWindow(w, utc('2026-12-12T04:00:00Z')), false, 'Sat 05:00 Berlin');
    assert.equal(windowEnd(w, utc('2026-12-12T01:30:00Z')), utc('2026-12-12T04:00:00Z'));
    assert.equal(nextOpening(w, utc('2026-12-09T12:00:00Z')), utc('2026-12-12T00:00:00Z'));
    // summer time: 01:00 CEST is 23:00Z the day before
    assert.equal(nextOpening(w, utc('2026-07-01T12:00:00Z')), utc('2026-07-03T23:00:00Z'));
    assert.equal(describeTime(utc('2026-12-12T00:00:00Z'), 'Europe/Berlin'), 'Sat 2026-12-12 01:00 Europe/Berlin (2026-12-12T00:00:00Z)');
  });

  it('a window across midnight belongs to the day it opens; ranges and daily', () => {
    const w = parseRebootWindow('Fri 23:00-02:00 UTC');
    assert.equal(inWindow(w, utc('2026-12-11T23:30:00Z')), true, 'Fri 23:30');
    assert.equal(inWindow(w, utc('2026-12-12T01:59:00Z')), true, 'Sat 01:59 (Friday\'s window)');
    assert.equal(inWindow(w, utc('2026-12-12T23:30:00Z')), false, 'Sat 23:30');
    assert.equal(inWindow(w, utc('2026-12-13T01:00:00Z')), false, 'Sun 01:00');
    const wk = parseRebootWindow('Mon-Fri 22:00-23:00 UTC');
    assert.deepEqual([...wk.days].sort(), [1, 2, 3, 4, 5]);
    assert.deepEqual([...parseRebootWindow('Sat-Mon 01:00-02:00 UTC').days].sort(), [0, 1, 6]);
    assert.equal(parseRebootWindow('daily 03:00-04:00 Europe/Dublin').days.size, 7);
    assert.deepEqual([...parseRebootWindow('sat,Sun 03:00-04:00 UTC').days].sort(), [0, 6]);
  });

  it('the DST gap: a window inside the skipped hour opens at the first minute that exists', () => {
    // 2027-03-28 Europe/Berlin jumps from 02:00 to 03:00; the window 02:00-04:00 opens at 03:00 local (01:00Z)
    const w = parseRebootWindow('Sun 02:00-04:00 Europe/Berlin');
    assert.equal(nextOpening(w, utc('2027-03-27T12:00:00Z')), utc('2027-03-28T01:00:00Z'));
  });

  for (const [text, msg] of [
    ['Sat 01:00-05:00', "expected '<days> <HH:MM>-<HH:MM> <time zone>', e.g. 'Sat 01:00-05:00 Europe/Berlin'"],
    ['Sat 1:00-05:00 Europe/Berlin', "'1:00' is not a time HH:MM (00:00 to 23:59)"],
    ['Sat 01:00-24:00 Europe/Berlin', "'24:00' is not a time HH:MM (00:00 to 23:59)"],
    ['Sam 01:00-05:00 Europe/Berlin', "'Sam' is not a day: expected Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range like Mon-Fri, or daily"],
    ['Sat 01:00-05:00 Europe/Berlín', "'Europe/Berlín' is not an IANA time zone (e.g. Europe/Berlin, UTC)"],
    ['Sat 01:00-05:00 Mars/Olympus', "'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin, UTC)"],
    ['Sat 01:00-05:00 europe/berlin', "'europe/berlin' is not an IANA time zone name like Europe/Berlin or UTC"],
    ['Sat 03:00-03:00 UTC', 'the window starts and ends at 03:00 (empty)'],
    ['Sat 01:00 UTC', "'01:00' is not a time span like 01:00-05:00"],
  ] as const) {
    it(`refuses '${text}' naming rebootWindow`, () => {
      assert.throws(() => parseRebootWindow(text), (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.message, `input 'rebootWindow': '${text}': ${msg}`);
        return true;
      });
    });
  }
});
