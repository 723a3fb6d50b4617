import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFiles } from '../../src/doors/cli/files.js';

const io = { stdinIsTTY: false, stdoutIsTTY: false, cwd: '/home/me/app' };

test('the CLI finds the build context among docker build flags, and leaves git URLs and artifacts to the server', () => {
  assert.deepEqual(planFiles(['build', '-t', 'web:1', '.'], io).build, { given: '.', index: 3, file: undefined });
  assert.deepEqual(planFiles(['image', 'build', '--build-arg', 'A=1', '--label=x=y', '-q', 'ctx'], io).build, { given: 'ctx', index: 6, file: undefined });
  assert.deepEqual(planFiles(['build', '-qt', 'web', '-f', 'docker/Dockerfile', 'ctx'], io).build, { given: 'ctx', index: 5, file: { index: 4, prefix: '', value: 'docker/Dockerfile' } });
  assert.deepEqual(planFiles(['build', '--file=../Dockerfile', '-tweb', 'ctx'], io).build, { given: 'ctx', index: 3, file: { index: 1, prefix: '--file=', value: '../Dockerfile' } });
  assert.deepEqual(planFiles(['build', '-fDockerfile.dev', '--network', 'host', 'ctx'], io).build?.file, { index: 1, prefix: '-f', value: 'Dockerfile.dev' });
  for (const remote of ['https://example.com/r.git#main', 'git@example.com:r.git', 'file:///srv/r', 'artifact:0123456789abcdef01234567']) {
    const p = planFiles(['build', '-t', 'x', remote], io);
    assert.equal(p.build, undefined, remote);
    assert.equal(p.upload, undefined, remote);
  }
  assert.equal(planFiles(['build', '-t', 'x'], io).build, undefined, 'no context: the server says what docker says');
});

test('build -: stdin is uploaded as the context; not both the context and the Dockerfile; not from a terminal', () => {
  assert.deepEqual(planFiles(['build', '-t', 'x', '-'], io).upload, { source: '-', index: 3, prefix: '' });
  assert.equal(planFiles(['build', '-f', '-', '-'], io).error, "invalid argument: can't use stdin for both build context and dockerfile");
  assert.match(planFiles(['build', '-'], { ...io, stdinIsTTY: true }).error ?? '', /stdin is a terminal/);
});

test('the build verb takes an uploaded context (artifact:ID) from every door; a tar header is told from a Dockerfile', async () => {
  const { parseCommand } = await import('../../src/commands/index.js');
  const { isArchive } = await import('../../src/commands/image/build.js');
  const o = parseCommand('build -t web:1 -f docker/Dockerfile artifact:0123456789abcdef01234567');
  assert.equal(o.type, 'spec');
  assert.deepEqual(o.type === 'spec' && { kind: o.spec.kind, context: (o.spec as { context: string }).context, file: (o.spec as { file?: string }).file }, {
    kind: 'image.build',
    context: 'artifact:0123456789abcdef01234567',
    file: 'docker/Dockerfile',
  });
  const tar = await import('tar-stream');
  const pack = tar.default.pack();
  pack.entry({ name: 'Dockerfile' }, 'FROM busybox:latest\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const header = Buffer.concat(chunks).subarray(0, 512);
  assert.equal(isArchive(header), true);
  assert.equal(isArchive(Buffer.from([0x1f, 0x8b, 0x08, 0])), true, 'gzip');
  assert.equal(isArchive(Buffer.from('FROM busybox:latest\nRUN true\n'.padEnd(600, '#'))), false, 'a Dockerfile');
  const corrupt = Buffer.from(header);
  corrupt[0] ^= 1;
  assert.equal(isArchive(corrupt), false, 'a bad checksum is no tar');
});

test('run/create: the CLI uploads every --env-file and --label-file, telling flag values from the image by the flags run takes', async () => {
  const { CONTAINER_FLAGS } = await import('../../src/commands/container/run-options.js');
  const { RUN_ONLY_FLAGS } = await import('../../src/commands/container/run.js');
  const { RUN_VALUE_FLAGS } = await import('../../src/doors/cli/files.js');
  const expected = [...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS].filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
  assert.deepEqual([...RUN_VALUE_FLAGS].sort(), expected.sort());
  const files = (words: string[]) => planFiles(words, io).runFiles;
  assert.deepEqual(files(['run', '--dns', '1.1.1.1', '--label-file', 'labels', 'busybox']), [{ source: '/home/me/app/labels', given: 'labels', cmd: 'run', index: 4, prefix: '' }]);
  assert.deepEqual(files(['create', '--ulimit', 'nofile=1', '--label-file=l.txt', 'busybox']), [{ source: '/home/me/app/l.txt', given: 'l.txt', cmd: 'create', index: 3, prefix: '--label-file=' }]);
  assert.deepEqual(files(['run', '--env-file', 'artifact:0123456789abcdef01234567', '--env-file', 'a.env', 'busybox']), [{ source: '/home/me/app/a.env', given: 'a.env', cmd: 'run', index: 4, prefix: '' }]);
  // Every one of them, in order, as docker reads them all.
  assert.deepEqual(
    files(['container', 'run', '--env-file', 'a.env', '-e', 'X=1', '--env-file=/etc/b.env', '--label-file', 'l', 'busybox']),
    [
      { source: '/home/me/app/a.env', given: 'a.env', cmd: 'container run', index: 3, prefix: '' },
      { source: '/etc/b.env', given: '/etc/b.env', cmd: 'container run', index: 6, prefix: '--env-file=' },
      { source: '/home/me/app/l', given: 'l', cmd: 'container run', index: 8, prefix: '' },
    ],
  );
  assert.equal(files(['run', 'busybox', '--label-file', 'x']), undefined, 'after the image: the container\'s arguments');
});
