import { PassThrough, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AgeEncryption } from './age.js';
import { Manifest, archiveId, checkKey, manifestKey, type BackupTarget, type PendingObject } from './target.js';

/** The SDK is loaded when a target is first used: it costs ~250 ms of start-up that the CLI door must not pay. */
const sdk = () => import('@aws-sdk/client-s3');

/** Upload parts: memory holds about (queue + 1) parts, so 8 MiB × 3 at most per backup. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/** What a backup's archive is called: only such keys are swept. */
const ARCHIVE = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\.tar(\.gz|\.zst)?(\.age)?$/;

export interface S3Options {
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  /** An S3-compatible endpoint (http(s)://host:port); AWS when absent. */
  endpoint?: string;
  /** The SDK's own chain (AWS_REGION, profile) when absent. */
  region?: string;
  forcePathStyle: boolean;
}

/** An S3 error as people read it: what was asked, the service's code and words. */
function s3Error(err: unknown, what: string): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const hint = /credential/i.test(e.message ?? '') ? ' (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile/role the AWS SDK finds)' : '';
  return new Error(`${what}: ${code}${e.message ?? String(err)}${hint}`);
}

/** Servers that do not list or abort multipart uploads (s3rver) answer this: nothing to sweep there. */
function unsupported(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotImplemented' || e.$metadata?.httpStatusCode === 501 || e.$metadata?.httpStatusCode === 405;
}

/**
 * Backups in an S3 bucket (AWS or S3-compatible): `<prefix><volume>/<id>.tar.zst` and `<id>.json`.
 * The archive is a streamed multipart upload that becomes an object only when completed; a failed
 * one is aborted, so nothing half-written is ever visible. Credentials come from the AWS SDK's chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, a role), never from the URL.
 */
export class S3Target implements BackupTarget {
  /** The options an s3:// URL takes (besides age's). */
  static readonly OPTIONS = ['endpoint', 'region', 'path_style'];

  /** `s3://bucket/prefix` with `endpoint=`, `region=`, `path_style=true`. */
  static fromUrl(name: string, base: string, q: Map<string, string[]>, age?: AgeEncryption): S3Target {
    const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?$/.exec(base);
    const bucket = m?.[1] ?? '';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`target "${name}": "${bucket}" is not an S3 bucket name (3-63 of a-z 0-9 . -)`);
    const prefix = decodeURIComponent(m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix.split('/').some((p) => p === '.' || p === '..') || /\/\//.test(prefix)) throw new Error(`target "${name}": "${prefix}" is not a usable key prefix`);
    const endpoint = q.get('endpoint')?.[0];
    // No user:password@ either: credentials never go in the URL (they would end up in logs).
    if (endpoint?.includes('@')) throw new Error(`target "${name}": the endpoint must not hold credentials (use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
    if (endpoint !== undefined && !/^https?:\/\/[^/?#\s]+\/?$/.test(endpoint)) throw new Error(`target "${name}": endpoint "${endpoint}" is not http(s)://HOST[:PORT]`);
    const style = q.get('path_style')?.[0];
    if (style !== undefined && style !== 'true' && style !== 'false') throw new Error(`target "${name}": path_style is true or false`);
    const region = q.get('region')?.[0];
    if (region !== undefined && !/^[a-z0-9-]+$/.test(region)) throw new Error(`target "${name}": region "${region}" is not a region name`);
    return new S3Target(name, { bucket, prefix: prefix ? `${prefix}/` : '', endpoint: endpoint?.replace(/\/$/, ''), region, forcePathStyle: style === 'true' }, age);
  }

  readonly where: string;
  private clientPromise?: Promise<S3Client>;

  constructor(readonly name: string, readonly opts: S3Options, readonly age?: AgeEncryption) {
    this.where = `s3://${opts.bucket}${opts.prefix ? `/${opts.prefix.replace(/\/$/, '')}` : ''}`;
  }

  private client(): Promise<S3Client> {
    this.clientPromise ??= sdk().then(
      ({ S3Client }) =>
        new S3Client({
          region: this.opts.region,
          endpoint: this.opts.endpoint,
          forcePathStyle: this.opts.forcePathStyle,
          // Our own sha256 guards the archive; the newer default checksums are refused by many S3-compatible servers.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 3,
          requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
        }),
    );
    return this.clientPromise;
  }

  private key(k: string): string {
    checkKey(k);
    return `${this.opts.prefix}${k}`;
  }

  private url(k: string) {
    return `${this.where}/${k}`;
  }

  async create(key: string): Promise<PendingObject> {
    const Key = this.key(key);
    const Bucket = this.opts.bucket;
    const [client, { Upload }, { AbortMultipartUploadCommand, DeleteObjectCommand }] = await Promise.all([this.client(), import('@aws-sdk/lib-storage'), sdk()]);
    // What the backup writes (body) is piped into what the upload reads (feed). When a part fails,
    // lib-storage drops feed at once; body then just stops taking data until the upload has settled
    // and is failed with the upload's own error, which is what the person is told.
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const feed = new PassThrough({ highWaterMark: 1024 * 1024 });
    body.pipe(feed);
    body.once('close', () => {
      if (!feed.writableEnded) feed.destroy();
    });
    // The parts are aborted by us (abort below), not by lib-storage, so we know it was done.
    const upload = new Upload({ client, params: { Bucket, Key, Body: feed, ContentType: 'application/octet-stream' }, partSize: PART_SIZE, queueSize: QUEUE_SIZE, leavePartsOnError: true });
    let failure: Error | undefined;
    let completed = false;
    const done = upload.done().then(
      () => {
        completed = true;
      },
      (err: unknown) => {
        failure = s3Error(err, `upload of ${this.url(key)}`);
        // The writer waits on a body nobody reads any more: fail it.
        body.destroy(failure);
      },
    );
    return {
      stream: body,
      commit: async () => {
        await done;
        if (failure || !completed) throw failure ?? new Error(`upload of ${this.url(key)} did not complete`);
      },
      abort: async () => {
        body.destroy();
        await done;
        try {
          if (completed) await client.send(new DeleteObjectCommand({ Bucket, Key }));
          else if (upload.uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: upload.uploadId }));
        } catch {
          // Parts of an upload never completed are not an object; sweep() aborts what is left.
        }
      },
    };
  }

  async read(key: string): Promise<Readable> {
    const { GetObjectCommand } = await sdk();
    try {
      const res = await (await this.client()).send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
      return res.Body as Readable;
    } catch (err) {
      throw s3Error(err, this.url(key));
    }
  }

  async putManifest(m: Manifest): Promise<void> {
    const { PutObjectCommand } = await sdk();
    const key = manifestKey(m);
    try {
      await (await this.client()).send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), Body: `${JSON.stringify(m, null, 2)}\n`, ContentType: 'application/json' }));
    } catch (err) {
      throw s3Error(err, this.url(key));
    }
  }

  /** Every object under the prefix (or a volume's), with its key relative to the prefix. */
  private async list(volume?: string): Promise<{ key: string; modified: number }[]> {
    const { ListObjectsV2Command } = await sdk();
    const client = await this.client();
    const out: { key: string; modified: number }[] = [];
    let token: string | undefined;
    do {
      let res;
      try {
        res = await client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: `${this.opts.prefix}${volume ? `${volume}/` : ''}`, ContinuationToken: token }));
      } catch (err) {
        throw s3Error(err, `listing ${this.where}`);
      }
      for (const o of res.Contents ?? []) {
        if (o.Key?.startsWith(this.opts.prefix)) out.push({ key: o.Key.slice(this.opts.prefix.length), modified: o.LastModified?.getTime() ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async manifests(volume?: string): Promise<Manifest[]> {
    const { GetObjectCommand } = await sdk();
    const client = await this.client();
    const objects = await this.list(volume);
    const keys = new Set(objects.map((o) => o.key));
    const wanted = objects.filter((o) => /^[^/]+\/[^/.][^/]*\.json$/.test(o.key));
    const out: Manifest[] = [];
    // A few at a time: a year of nightly backups is hundreds of small GETs.
    for (let i = 0; i < wanted.length; i += 8) {
      await Promise.all(
        wanted.slice(i, i + 8).map(async ({ key }) => {
          try {
            const res = await client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: `${this.opts.prefix}${key}` }));
            const m = Manifest.parse(JSON.parse(await res.Body!.transformToString()));
            if (manifestKey(m) === key && keys.has(`${m.volume}/${m.file}`)) out.push(m);
          } catch {
            // Unreadable or without its archive: not a backup.
          }
        }),
      );
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async remove(m: Manifest): Promise<void> {
    const { DeleteObjectCommand } = await sdk();
    const client = await this.client();
    for (const key of [manifestKey(m), `${m.volume}/${m.file}`]) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
      } catch (err) {
        throw s3Error(err, `removing ${this.url(key)}`);
      }
    }
  }

  async sweep(now: number, olderThanMs: number): Promise<string[]> {
    const { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand } = await sdk();
    const client = await this.client();
    const Bucket = this.opts.bucket;
    const removed: string[] = [];
    const ours = (key: string) => {
      const [vol, base, ...rest] = key.split('/');
      return !rest.length && !!vol && !!base && ARCHIVE.test(base);
    };
    // Uploads a dead job started and never completed or aborted.
    try {
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      do {
        const res = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: this.opts.prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
        for (const u of res.Uploads ?? []) {
          const key = u.Key?.slice(this.opts.prefix.length) ?? '';
          if (!u.Key?.startsWith(this.opts.prefix) || !u.UploadId || !ours(key) || now - (u.Initiated?.getTime() ?? now) < olderThanMs) continue;
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
          removed.push(`${key} (unfinished upload)`);
        }
        keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
        idMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      if (!unsupported(err)) throw s3Error(err, `listing unfinished uploads in ${this.where}`);
    }
    // Archives whose manifest was never written.
    const objects = await this.list();
    const backups = new Set(objects.filter((o) => o.key.endsWith('.json')).map((o) => o.key.slice(0, -'.json'.length)));
    for (const o of objects) {
      if (!ours(o.key) || backups.has(archiveId(o.key)) || now - o.modified < olderThanMs) continue;
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: `${this.opts.prefix}${o.key}` }));
      } catch (err) {
        throw s3Error(err, `removing ${this.url(o.key)}`);
      }
      removed.push(o.key);
    }
    return removed;
  }
}
