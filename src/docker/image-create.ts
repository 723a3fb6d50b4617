import type Docker from 'dockerode';
import type { Readable } from 'node:stream';

/**
 * POST /images/create (`docker import`): `fromSrc=-` with `file` as the request body, or `fromSrc`
 * a URL the engine fetches. dockerode's createImage(opts, stream) takes the stream for its options
 * and sends no body (the engine then answers 500 "no Host in request URL"), so the modem is dialled
 * directly. Resolves with the engine's JSON message stream; errors are the modem's, unconverted.
 */
export function createImageFrom(docker: Docker, options: Record<string, unknown>, file?: Readable): Promise<Readable> {
  const modem = docker.modem as unknown as { dial(o: object, cb: (err: unknown, s: Readable) => void): void };
  return new Promise<Readable>((resolve, reject) =>
    modem.dial(
      { path: '/images/create?', method: 'POST', options, file, isStream: true, statusCodes: { 200: true, 404: 'not found', 500: 'server error' } },
      (err, s) => (err ? reject(err) : resolve(s)),
    ),
  );
}
