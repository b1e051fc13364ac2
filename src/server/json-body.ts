import type { RequestHandler } from 'express';

/** A request the server refuses before judging, with the status and the words to answer it. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a JSON body of at most `limit` bytes into `req.body`; `expected` names what it should hold. A body over the limit is refused
 * as soon as that is known: at once from Content-Length, else when the count passes the limit,
 * and the rest is never read (express.json reads off the whole body first, however large).
 * Errors carry our own words: a parser's message may quote the body.
 */
export function jsonBody(limit: number, expected: string): RequestHandler {
  const tooLarge = `the body is larger than ${limit / 1024 / 1024} MiB, the most a legitimate ${expected} needs`;
  return (req, _res, next) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    // Compressed bodies are refused: the API server never sends them, and a small one can inflate hugely.
    if (encoding !== 'identity') return next(new RequestError(415, 'Content-Encoding is not supported: send the body uncompressed'));
    const charset = /;\s*charset="?([^";]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) return next(new RequestError(415, 'the charset is not supported: send UTF-8'));
    if (Number(req.headers['content-length']) > limit) return next(new RequestError(413, tooLarge));

    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: RequestError): void => {
      req.off('data', collect);
      req.off('end', parse);
      if (error) {
        req.pause();
        next(error);
      }
    };
    const collect = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(new RequestError(413, tooLarge));
      else chunks.push(chunk);
    };
    const parse = (): void => {
      finish();
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        req.body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        return next(new RequestError(400, `the body is not valid JSON: send an ${expected} object`));
      }
      next();
    };
    req.on('data', collect);
    req.on('end', parse);
    // A client that goes away mid-body is owed no answer; its socket is already gone.
    req.once('error', () => finish());
  };
}
