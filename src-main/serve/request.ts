/**
 * What the browser-mode server reads from a raw request before trusting any of it: the
 * request-target as a URL, a percent-decoded path, the access token, and the one-line log entry
 * of a request that failed. Everything here returns a value or throws BadRequest, which the
 * server answers with 400: a malformed request is the client's mistake, never a crash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A request the server cannot make sense of (bad request-target, bad percent-encoding). */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

/**
 * The request-target as a URL. Only origin-form targets ('/path?query') are served; they are
 * parsed as a path under a fixed origin, so '//', '///' or '//:99999/' stay paths instead of being
 * read as a host (which made the WHATWG parser throw and, in the upgrade handler, end the process).
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '';
  if (!target.startsWith('/')) throw new BadRequest('the request-target is not a path');
  try {
    return new URL(`http://studio.invalid${target}`);
  } catch {
    throw new BadRequest('the request-target is not a valid URL path');
  }
}

/** The URL's path with percent-escapes decoded; '%zz' or a broken UTF-8 sequence is a BadRequest. */
export function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    throw new BadRequest('malformed percent-encoding in the path');
  }
}

/** The token a request carries: `?token=` first, then the `rls_token` cookie the page was given. */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = /(?:^|;\s*)rls_token=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return cookie?.[1];
}

/**
 * Compares SHA-256 digests, which always have the same length: timingSafeEqual throws on buffers
 * of different lengths (24 characters of 'é' are 48 bytes), and comparing lengths first would tell
 * an attacker the token's length.
 */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** One log line naming the request; control characters from the client are escaped, so a URL cannot forge lines. */
export function describeRequest(req: IncomingMessage): string {
  const target = (req.url ?? '').slice(0, 200);
  return `${String(req.method).slice(0, 16)} ${JSON.stringify(target)}`;
}
