import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, JobSpec, parseCommand } from '../../src/commands/index.js';
import { UsageError } from '../../src/errors.js';
import { registryAuth, authKeyHost, DOCKER_HUB, DOCKER_HUB_HOSTS, DOCKER_HUB_KEY } from '../../src/docker/registry-auth.js';
import { isGitUrl, parseGitContext } from '../../src/docker/git-context.js';
import { searchText } from '../../src/commands/system/search.js';
import { systemPruneText } from '../../src/commands/system/prune.js';

const spec = (cmd: string) => {
  const o = parseCommand(cmd);
  assert.equal(o.type, 'spec');
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, re: RegExp, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && re.test(e.message),
    cmd,
  );

test('push: alias, flags, docker checks', () => {
  for (const c of ['push localhost:5000/x:1', 'image push localhost:5000/x:1']) {
    assert.deepEqual(spec(c), { kind: 'image.push', image: 'localhost:5000/x:1', allTags: false, quiet: false });
  }
  assert.deepEqual(spec('push -a -q --disable-content-trust localhost:5000/x'), { kind: 'image.push', image: 'localhost:5000/x', allTags: true, quiet: true });
  usage('push -a localhost:5000/x:1', /^tag can't be used with --all-tags\/-a$/, 1);
  usage('push x/Bad', /^invalid reference format: repository name must be lowercase$/, 1);
  usage('push', /"docker push" requires exactly 1 argument/);
});

test('registry credentials: from DOCKER_CONFIG auths, by host, base64 user:pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockops-auth-'));
  try {
    const env = { DOCKER_CONFIG: dir };
    assert.equal(registryAuth('localhost:5000', env), undefined); // no config.json at all
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'localhost:5000': { auth: Buffer.from('me:s3:cret').toString('base64') },
          [DOCKER_HUB_KEY]: { auth: Buffer.from('hub:pw').toString('base64') },
          'https://ghcr.io/v2/': { identitytoken: 'tok' },
          'empty.example': {},
        },
      }),
    );
    assert.deepEqual(registryAuth('localhost:5000', env), { serveraddress: 'localhost:5000', username: 'me', password: 's3:cret' });
    // Docker Hub's entry is found by its short name (nothing here connects to it).
    assert.deepEqual(registryAuth(DOCKER_HUB, env), { serveraddress: DOCKER_HUB_KEY, username: 'hub', password: 'pw' });
    assert.deepEqual(registryAuth('ghcr.io', env), { serveraddress: 'https://ghcr.io/v2/', identitytoken: 'tok' });
    assert.equal(registryAuth('empty.example', env), undefined);
    assert.equal(registryAuth('other:5000', env), undefined);
    writeFileSync(join(dir, 'config.json'), '{not json');
    assert.equal(registryAuth('localhost:5000', env), undefined);
    for (const alias of DOCKER_HUB_HOSTS) assert.equal(authKeyHost(`https://${alias}/v2/`), DOCKER_HUB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('build: git URL contexts only; flags; alias', () => {
  const s = spec('build -t a:1 -t b --build-arg X=1 --build-arg BARE --label k=v --label bare --no-cache --pull --target t -q -f sub/Df file:///tmp/r#main:dir');
  assert.deepEqual(s, {
    kind: 'image.build', context: 'file:///tmp/r#main:dir', tags: ['a:1', 'b'], file: 'sub/Df', buildArgs: { X: '1' }, labels: { k: 'v', bare: '' },
    noCache: true, pull: true, target: 't', quiet: true, forceRm: false,
  });
  assert.equal((spec('build --force-rm file:///tmp/r') as { forceRm: boolean }).forceRm, true);
  assert.equal((spec('image build https://example.com/r.git') as { kind: string }).kind, 'image.build');
  usage('build /srv/app', /not a git URL.*Docker socket is root/s, 1);
  usage('build .', /git URL/, 1);
  usage('build -', /stdin/, 1);
  usage('build https://example.com/app.tar.gz', /not a git URL/, 1);
  usage('build -t Bad file:///tmp/r', /invalid argument "Bad" for "-t, --tag" flag: invalid reference format: repository name must be lowercase/);
  usage('build -f ../Dockerfile file:///tmp/r', /relative path inside the build context/, 1);
  usage('build file:///tmp/r#main:../x', /invalid sub-directory/, 1);
  usage('build file:///tmp/r#--upload-pack=x', /invalid git reference/, 1);
  assert.equal(COMMANDS.find((c) => c.path.join(' ') === 'image build')?.aliases?.[0]?.[0], 'build');
});

test('git URL forms', () => {
  for (const u of ['https://h/r.git', 'https://h/r.git#v1:d', 'git@github.com:o/r.git', 'git://h/r', 'ssh://git@h/r', 'file:///tmp/r#main']) assert.ok(isGitUrl(u), u);
  for (const u of ['/tmp/r', '.', 'https://h/r.tar.gz', 'ext::sh -c x']) assert.ok(!isGitUrl(u), u);
  assert.deepEqual(parseGitContext('https://h/r.git#v1:sub/dir'), { url: 'https://h/r.git', ref: 'v1', dir: 'sub/dir' });
  assert.deepEqual(parseGitContext('file:///tmp/r#:sub'), { url: 'file:///tmp/r', ref: undefined, dir: 'sub' });
  assert.deepEqual(parseGitContext('git@h:r.git'), { url: 'git@h:r.git', ref: undefined, dir: undefined });
});

test('search: flags, filters checked by the engine, table like docker 20.10', () => {
  assert.deepEqual(spec('search busybox'), { kind: 'search', term: 'busybox', filters: {}, limit: 25, noTrunc: false, format: undefined });
  assert.deepEqual(spec('search -f is-official=true --filter stars=3 -f is-automated=false --limit 5 --no-trunc --format {{.Name}} x'), {
    kind: 'search', term: 'x', filters: { 'is-official': ['true'], stars: ['3'], 'is-automated': ['false'] }, limit: 5, noTrunc: true, format: '{{.Name}}',
  });
  usage('search -f foo x', /^invalid argument "foo" for "-f, --filter" flag: bad format of filter \(expected name=value\)/);
  usage('search', /"docker search" requires exactly 1 argument/);
  const results = [
    { name: 'few', description: 'short', star_count: 2, is_official: false, is_automated: true },
    { name: 'busybox', description: 'Busybox base image.\nWith a very long description that goes on and on', star_count: 3000, is_official: true },
  ];
  assert.equal(
    searchText(results, { noTrunc: false }),
    'NAME      DESCRIPTION                                     STARS     OFFICIAL   AUTOMATED\n' +
      'busybox   Busybox base image. With a very long descrip…   3000      [OK]       \n' +
      'few       short                                           2                    [OK]\n',
  );
  assert.ok(searchText(results, { noTrunc: true }).includes('goes on and on'));
  assert.equal(searchText(results, { noTrunc: false, format: '{{.Name}}:{{.StarCount}}' }), 'busybox:3000\nfew:2\n');
});

test('system prune: refused without -f, filters, destructive, output blocks', () => {
  usage('system prune', /^WARNING! This will remove:\n[\s\S]*add -f/, 1);
  usage('system prune -a --volumes', /all volumes not used[\s\S]*all images without at least one container/, 1);
  assert.deepEqual(spec('system prune -f'), { kind: 'system.prune', all: false, volumes: false, filters: {} });
  assert.deepEqual(spec('system prune -af --volumes --filter label=a=b'), { kind: 'system.prune', all: true, volumes: true, filters: { label: ['a=b'] } });
  usage('system prune -f --volumes --filter until=1h', /^ERROR: The "until" filter is not supported with "--volumes"$/, 1);
  usage('system prune -f --filter nope', /bad format of filter/);
  assert.equal(COMMANDS.find((c) => c.path.join(' ') === 'system prune')?.destructive, true);
  assert.equal(
    systemPruneText({ containers: ['c1'], networks: ['n1'], volumes: [], images: [{ Untagged: 'x:1' }, { Deleted: 'sha256:1' }], buildCache: [], spaceReclaimed: 2048 }),
    'Deleted Containers:\nc1\n\nDeleted Networks:\nn1\n\nDeleted Images:\nuntagged: x:1\ndeleted: sha256:1\n\nTotal reclaimed space: 2.048kB\n',
  );
});
