import type { IncomingMessage } from 'node:http';

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

/** The client went away before its body arrived: there is nobody left to answer. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/**
 * Reads the JSON body of `req`, of at most `limit` bytes; `expected` names what it should hold.
 * A body over the limit is refused as soon as that is known: at once from Content-Length, else
 * when the count passes the limit, and the rest is never read. Errors carry our own words: a
 * parser's message may quote the body. An empty body reads as undefined.
 */
export function readJsonBody(req: IncomingMessage, limit: number, expected: string): Promise<unknown> {
  const { contentType, contentEncoding, contentLength } = bodyHeaders(req.rawHeaders);
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(mediaType)) {
    return Promise.reject(new RequestError(415, 'Content-Type must be application/json'));
  }
  // Compressed bodies are refused: the API server never sends them, and a small one can inflate hugely.
  if (contentEncoding.toLowerCase() !== 'identity') return Promise.reject(new RequestError(415, 'Content-Encoding is not supported: send the body uncompressed'));
  const charset = /;\s*charset="?([^";]+)/i.exec(contentType)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return Promise.reject(new RequestError(415, 'the charset is not supported: send UTF-8'));
  const tooLarge = (): RequestError => new RequestError(413, `the body is larger than ${limit / 1024 / 1024} MiB, the most a legitimate ${expected} needs`);
  if (Number(contentLength) > limit) return Promise.reject(tooLarge());

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', collect);
      req.off('end', parse);
      req.off('close', gone);
    };
    const collect = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      req.pause();
      reject(tooLarge());
    };
    const parse = (): void => {
      stop();
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch {
        // Only now, off the common path: a body of nothing but white space is no body at all.
        if (text.trim() === '') resolve(undefined);
        else reject(new RequestError(400, `the body is not valid JSON: send an ${expected} object`));
      }
    };
    const gone = (): void => {
      stop();
      reject(new ClientGone('the client closed the connection before sending its whole body'));
    };
    req.on('data', collect);
    req.on('end', parse);
    // 'close' before 'end': the client went away mid-body (Node emits no 'error' without a listener).
    req.on('close', gone);
  });
}

/**
 * The three headers a body is judged by, read from the raw list as `req.headers` would give them
 * (the first Content-Type and Content-Length, every Content-Encoding joined with ", "): asking
 * `req.headers` builds an object of every header, a cost on every review that nothing else needs.
 */
function bodyHeaders(raw: readonly string[]): { contentType: string; contentEncoding: string; contentLength: string | undefined } {
  let contentType: string | undefined;
  let contentLength: string | undefined;
  let contentEncoding: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Only names of the right length are compared: most headers are passed over at once.
    if (name.length === 12 && contentType === undefined && name.toLowerCase() === 'content-type') contentType = raw[i + 1];
    else if (name.length === 14 && contentLength === undefined && name.toLowerCase() === 'content-length') contentLength = raw[i + 1];
    else if (name.length === 16 && name.toLowerCase() === 'content-encoding') contentEncoding = contentEncoding === undefined ? raw[i + 1] : `${contentEncoding}, ${raw[i + 1]}`;
  }
  return { contentType: contentType ?? '', contentEncoding: contentEncoding ?? 'identity', contentLength };
}
