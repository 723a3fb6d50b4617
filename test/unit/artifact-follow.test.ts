import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ArtifactStore } from '../../src/artifacts/store.js';

async function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('follow() reads an artifact while it is written and ends with its last byte', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-follow-'));
  try {
    const store = new ArtifactStore(dir, 1 << 30);
    const src = new PassThrough();
    let id = '';
    const started = new Promise<void>((resolve) => {
      void store.write('image.tar', src, 'job', (a) => {
        id = a.id;
        resolve();
      });
    });
    await started;
    assert.equal(await store.writing(id), true);
    const reading = collect(store.follow(id));
    const want: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const chunk = Buffer.alloc(100_000 + i, i);
      want.push(chunk);
      src.write(chunk);
      await new Promise((r) => setTimeout(r, 10));
    }
    src.end();
    const got = await reading;
    assert.equal(got.length, Buffer.concat(want).length);
    assert.ok(got.equals(Buffer.concat(want)));
    assert.equal(await store.writing(id), false);
    const a = await store.stat(id);
    assert.equal(a?.size, got.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('follow() fails when the write fails, instead of ending as if complete', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-follow-'));
  try {
    const store = new ArtifactStore(dir, 1 << 30);
    const src = new PassThrough();
    let id = '';
    const writing = store.write('x.tar', src, 'job', (a) => (id = a.id)).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    const reading = collect(store.follow(id));
    src.write(Buffer.alloc(50_000, 1));
    await new Promise((r) => setTimeout(r, 50));
    src.destroy(new Error('engine went away'));
    assert.match(String(await writing), /engine went away/);
    await assert.rejects(reading, /was not completed \(the job failed or was cancelled\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
