import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { dockerCli } from './env.js';

const require = createRequire(import.meta.url);
type Payload = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Payload[] }>;

/** A real push payload from @octokit/webhooks-examples (a deep copy to re-point). */
export function realPush(i = 4): Payload {
  return structuredClone(examples.find((e) => e.name === 'push')!.examples[i]);
}

/** A real push re-pointed at a repository, ref and commit (and, optionally, another repository name). */
export function pushOf(o: { ref: string; after: string; fullName?: string }): Payload {
  const p = realPush(4);
  p.ref = o.ref;
  p.after = o.after;
  if (o.fullName) {
    p.repository.full_name = o.fullName;
    p.repository.name = o.fullName.split('/')[1];
    p.repository.html_url = `https://github.com/${o.fullName}`;
  }
  return p;
}

/** POSTs a webhook signed as GitHub signs it (X-Hub-Signature-256 over the exact body). */
export async function deliver(baseUrl: string, secret: string, event: string, payload: unknown, delivery = randomUUID()) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${baseUrl}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': await sign(secret, body),
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as Payload };
}

/** A real git repository on disk; `commit` writes files and returns the new commit's ID. */
export function gitRepo(dir: string, branch = 'main') {
  mkdirSync(dir, { recursive: true });
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', branch);
  return {
    dir,
    git,
    commit(files: Record<string, string>, message = 'change', on?: string): string {
      if (on) {
        const exists = git('branch', '--list', on);
        git('checkout', '-q', ...(exists ? [on] : ['-b', on]));
      }
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        writeFileSync(path.join(dir, f), text);
      }
      git('add', '-A');
      git('commit', '-qm', message);
      return git('rev-parse', 'HEAD');
    },
  };
}

/** A stand-in for api.github.com that records commit statuses as GitHub answers them. */
export async function standInGithub() {
  const statuses: Array<{ path: string; body: Payload }> = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      const body = JSON.parse(b || '{}') as Payload;
      statuses.push({ path: `${req.method} ${req.url}`, body });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: statuses.length, state: body.state }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    statuses,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Removes what a test's builds left on the engine without a tag: images of its commits whose tag
 * a later build took (labelled with their revision), and the steps of failed or cancelled builds
 * (their Dockerfiles carry the test's nonce). Nothing of anybody else's is touched.
 */
export function removeBuildLeftovers(o: { shas: string[]; nonce?: string }) {
  for (const sha of o.shas) dockerCli(['image', 'prune', '-f', '--filter', `label=org.opencontainers.image.revision=${sha}`]);
  if (!o.nonce) return;
  for (let round = 0; round < 5; round++) {
    const dangling = dockerCli(['image', 'ls', '-q', '--no-trunc', '-f', 'dangling=true']).stdout.split('\n').filter(Boolean);
    const mine = dangling.filter((id) => dockerCli(['image', 'inspect', '-f', '{{json .ContainerConfig.Cmd}}', id]).stdout.includes(o.nonce!));
    if (!mine.length) return;
    dockerCli(['rmi', ...mine]);
  }
}

/** Every commit of a test repository (to find the images built from them). */
export function commitsOf(dir: string): string[] {
  return execFileSync('git', ['-C', dir, 'rev-list', '--all'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}
