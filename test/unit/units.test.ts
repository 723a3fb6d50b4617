import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, ellipsis, formatFloatG, humanDuration, humanSize, truncateId } from '../../src/render/units.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

test('humanDuration follows go-units HumanDuration', () => {
  const cases: [number, string][] = [
    [450, 'Less than a second'],
    [-5 * SEC, 'Less than a second'],
    [1 * SEC, '1 second'],
    [1999, '1 second'],
    [45 * SEC, '45 seconds'],
    [59 * SEC, '59 seconds'],
    [60 * SEC, 'About a minute'],
    [119 * SEC, 'About a minute'],
    [3 * MIN, '3 minutes'],
    [35 * MIN + 40 * SEC, '35 minutes'],
    [59 * MIN, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MIN, 'About an hour'],
    // Round(time.Hour) rounds an exact half up.
    [1 * HOUR + 30 * MIN, '2 hours'],
    [1 * HOUR + 31 * MIN, '2 hours'],
    [3 * HOUR + 29 * MIN, '3 hours'],
    [3 * HOUR + 31 * MIN, '4 hours'],
    [24 * HOUR, '24 hours'],
    [1 * DAY + 12 * HOUR, '36 hours'],
    [47 * HOUR + 29 * MIN, '47 hours'],
    [2 * DAY, '2 days'],
    [7 * DAY, '7 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [4 * WEEK + 3 * DAY, '4 weeks'],
    [1 * MONTH, '4 weeks'],
    [1 * MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [3 * MONTH + 1 * WEEK, '3 months'],
    [13 * MONTH, '13 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test('humanSize is HumanSizeWithPrecision(size, 3)', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [100, '100B'],
    [999, '999B'],
    [1000, '1kB'],
    [4096, '4.1kB'],
    [1984000, '1.98MB'],
    [1234567890, '1.23GB'],
    [3.5e12, '3.5TB'],
    // Go rounds to 3 digits before choosing notation, so 999.5kB is "1e+03kB".
    [999500, '1e+03kB'],
    // An exact tie rounds to even in Go (%.3g of 4.125 is 4.12).
    [4125, '4.12kB'],
    [1e27, '1e+03YB'],
  ];
  for (const [n, want] of cases) assert.equal(humanSize(n), want, `humanSize(${n})`);
});

test('image sizes match real docker images output', () => {
  // busybox is 1984172 bytes; `docker images --format '{{json .}}'` printed
  // "Size":"1.98MB" (precision 3) and "VirtualSize":"1.984MB" (go-units HumanSize, precision 4).
  assert.equal(humanSize(1984172), '1.98MB');
  assert.equal(humanSize(1984172, 4), '1.984MB');
});

test('bytesSize matches docker info Total Memory', () => {
  // `docker info --format '{{json .MemTotal}}'` → 25276059648; `docker info` → "Total Memory: 23.54GiB".
  assert.equal(bytesSize(25276059648), '23.54GiB');
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(1024 * 1024 * 1024 * 1024), '1TiB');
});

test('formatFloatG reproduces Go %.*g and %v', () => {
  const cases: [number, number, string][] = [
    [1000, 3, '1e+03'],
    [100, 3, '100'],
    [4.096, 3, '4.1'],
    [0.000123456, 3, '0.000123'],
    [0.0000123456, 3, '1.23e-05'],
    [123.456, 2, '1.2e+02'],
    [12, 1, '1e+01'],
    [1.5, 0, '2'],
    [2.5, 1, '2'],
    [-2.5, 1, '-2'],
    [1e6, -1, '1e+06'],
    [123456, -1, '123456'],
    [1234567, -1, '1.234567e+06'],
    [0.1, -1, '0.1'],
    [1e-7, -1, '1e-07'],
    [Infinity, 3, '+Inf'],
    [NaN, 3, 'NaN'],
  ];
  for (const [x, p, want] of cases) assert.equal(formatFloatG(x, p), want, `%.${p}g of ${x}`);
});

test('truncateId is stringid.TruncateID', () => {
  // The busybox image ID and its IMAGE ID column in real `docker images` output.
  assert.equal(truncateId('sha256:8469a6bd210371f8ee2f007f14f0f0ea0b098af9f49f54e1663ba43d304d8edc'), '8469a6bd2103');
  assert.equal(truncateId('44b0b9564122aaaabbbbcccc'), '44b0b9564122');
  assert.equal(truncateId('short'), 'short');
});

test('ellipsis is formatter.Ellipsis', () => {
  assert.equal(ellipsis('hello', 5), 'hello');
  assert.equal(ellipsis('hello world', 5), 'hell…');
  // Real `docker ps` COMMAND column `"sh -c 'echo out; ec…"` is strconv.Quote(Ellipsis(cmd, 20)).
  assert.equal(ellipsis("sh -c 'echo out; echo err >&2'", 20), "sh -c 'echo out; ec…");
  assert.equal(ellipsis('日本語テキスト', 5), '日本…');
  assert.equal(ellipsis('日本語', 6), '日本語');
  assert.equal(ellipsis('abc', 1), 'a');
  assert.equal(ellipsis('abc', 0), '');
  assert.equal(ellipsis('', 1), '');
  // docker quirk: no cut point when the first character is wider than max-1.
  assert.equal(ellipsis('日本', 1), '日');
  assert.equal(ellipsis('日本語', 2), '日本語');
});
