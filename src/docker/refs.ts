/**
 * Image references the way docker's reference package reads them: `busybox` is
 * `docker.io/library/busybox:latest`, `localhost:5000/app` is `localhost:5000/app:latest`.
 */
export interface ImageRef {
  /** Registry host, `docker.io` when none is given. */
  domain: string;
  /** Repository path within the registry (`library/busybox`). */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';

export function parseRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const first = rest.indexOf('/');
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost' || head !== head.toLowerCase()) {
      domain = head;
      path = rest.slice(first + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path, tag, digest };
}

/** True when the text is a valid reference (lower-case repository, tag charset, digest form). */
export function isValidRef(ref: string): boolean {
  return /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.test(ref);
}

/** The short name docker prints: `busybox`, `me/app`, `localhost:5000/app`. */
export function familiarName(r: ImageRef): string {
  if (r.domain === DEFAULT_DOMAIN) return r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return `${r.domain}/${r.path}`;
}

/** familiarName plus `:tag` / `@digest`. */
export function familiarString(r: ImageRef): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The fully qualified string: `docker.io/library/busybox:latest`. */
export function fullString(r: ImageRef): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Adds `:latest` when neither tag nor digest is given, as `docker pull` and `docker run` do. */
export function withDefaultTag(r: ImageRef): ImageRef {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}
