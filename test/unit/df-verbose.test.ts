import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diskUsageSections } from '../../src/commands/system/df.js';
import { compileTemplate } from '../../src/render/go-template.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const du = {
  LayersSize: 10,
  Images: [],
  Containers: [],
  Volumes: [],
  // The legacy builder keeps no build cache, so these rows are never seen on the test engine.
  BuildCache: [
    { ID: 'zzzz1111aaaa2222bbbb', Parent: 'pppp1111aaaa2222bbbb', Type: 'regular', Description: 'mount / from exec', Size: 2_500_000, InUse: true, Shared: false, CreatedAt: '2026-12-01T10:59:00.120000000Z', LastUsedAt: '2026-12-01T11:30:00Z', UsageCount: 3 },
    { ID: 'aaaa1111aaaa2222bbbb', Type: 'source.local', Size: 10, InUse: false, Shared: true, CreatedAt: '2026-12-01T10:00:00Z', LastUsedAt: null, UsageCount: 0 },
  ],
};

test('system df -v build cache rows as docker formats them: by last use, IDs shortened in tables, * when in use', () => {
  const table = diskUsageSections(du, true, NOW).BuildCache;
  assert.deepEqual(
    table.map((r) => [r.ID, r.Parent, r.CacheType, r.Size, r.CreatedSince, r.LastUsedSince, r.UsageCount, r.InUse, r.Shared]),
    [
      ['aaaa1111aaaa', '', 'source.local', '10B', '2 hours ago', '', '0', 'false', 'true'],
      ['zzzz1111aaaa*', 'pppp1111aaaa', 'regular', '2.5MB', 'About an hour ago', '30 minutes ago', '3', 'true', 'false'],
    ],
  );
  const raw = diskUsageSections(du, false, NOW).BuildCache[1];
  assert.equal(raw.ID, 'zzzz1111aaaa2222bbbb*');
  assert.equal(raw.CreatedAt, '2026-12-01 10:59:00.12 +0000 UTC');
});

test('{{json .}} of the whole keeps its sections in order and marshals each row as docker rows are', () => {
  const data = diskUsageSections({ ...du, BuildCache: [] }, false, NOW);
  const out = compileTemplate('{{json .}}')(data);
  assert.equal(out, '{"Images":[],"Containers":[],"Volumes":[],"BuildCache":[]}');
  assert.throws(() => compileTemplate('{{.Nope}}')(data), /can't evaluate field Nope in type \*formatter\.diskUsageContext/);
  assert.throws(() => compileTemplate('{{range .BuildCache}}{{end}}{{range .Volumes}}{{end}}{{(index .Images 0).Nope}}')(diskUsageSections({ ...du, Images: [{ Id: 'sha256:ab', Created: 0, Size: 1, SharedSize: -1, Containers: -1, RepoTags: null, RepoDigests: null }] } as never, false, NOW)), /in type \*formatter\.imageContext/);
});
