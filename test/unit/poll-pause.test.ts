import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollPause } from '../../src/doors/api/routes.js';

test('pollPause: pauses double from 1 ms up to 10 ms during the first 400 ms of a wait, then up to a 40th of the wait, 100 ms at most', () => {
  const seq: number[] = [];
  for (let p = 1, waited = 0; seq.length < 8; p = pollPause(p, waited), waited += p) seq.push(p);
  assert.deepEqual(seq, [1, 2, 4, 8, 10, 10, 10, 10]);
  assert.equal(pollPause(10, 399), 10);
  assert.equal(pollPause(10, 1000), 20);
  assert.equal(pollPause(20, 1000), 25);
  assert.equal(pollPause(40, 2000), 50);
  let p = 10;
  for (let i = 0; i < 5; i++) p = pollPause(p, 5000);
  assert.equal(p, 100);
});
