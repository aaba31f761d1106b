import { configError, PortalMfaError, type ErrorKind } from '../../core/errors.js';
import { VERSION } from '../version.js';

/**
 * The service's HTTP status back to the core's error kind: the inverse of src/service/errors.ts,
 * so a refusal over HTTP exits with the same code as the same refusal in local mode.
 */
const KIND_OF_STATUS: Record<number, ErrorKind> = {
  400: 'usage',
  401: 'rejected',
  403: 'forbidden',
  404: 'not_found',
  409: 'wrong_state',
  413: 'usage',
  415: 'usage',
  429: 'locked',
  503: 'config',
};

/** How long one request may take before the service counts as unreachable. */
const TIMEOUT_MS = 30_000;

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** One JSON call to the service; any error answer is thrown as the PortalMfaError it stands for. */
type CallOptions = { token?: string; body?: unknown; query?: Record<string, string | number | boolean | undefined>; headers?: Record<string, string> };

export async function call(server: URL, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: CallOptions = {}): Promise<Reply> {
  const res = await send(server, method, path, opts);
  const text = await res.text().catch((e: unknown) => {
    throw unreachable(server, e);
  });
  const body = parse(server, res.status, text);
  if (res.status < 400) return { status: res.status, body };
  throw errorOf(server, res.status, body);
}

/**
 * A streamed NDJSON report (GET): its records a page at a time as they arrive — a page is whatever
 * complete lines one chunk brought — so a large report is never held whole, as locally.
 */
export async function streamLines(server: URL, path: string, opts: CallOptions = {}): Promise<AsyncIterable<Record<string, unknown>[]>> {
  const res = await send(server, 'GET', path, { ...opts, headers: { ...opts.headers, accept: 'application/x-ndjson' } });
  if (res.status >= 400 || !res.body) {
    const text = await res.text().catch((e: unknown) => {
      throw unreachable(server, e);
    });
    throw errorOf(server, res.status, parse(server, res.status, text));
  }
  const body = res.body;
  async function* pages() {
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of body) {
        rest += decoder.decode(chunk as Uint8Array, { stream: true });
        const lines = rest.split('\n');
        rest = lines.pop()!;
        const page = lines.filter((l) => l !== '').map((l) => parse(server, res.status, l));
        if (page.length > 0) yield page;
      }
    } catch (e) {
      throw unreachable(server, e);
    }
    if (rest.trim() !== '') yield [parse(server, res.status, rest)];
  }
  return pages();
}

async function send(server: URL, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: CallOptions): Promise<Response> {
  const url = new URL(path.replace(/^\//, ''), server.href.endsWith('/') ? server : `${server.href}/`);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `portal-mfa-cli/${VERSION}`, ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw unreachable(server, e);
  }
  return res;
}

function parse(server: URL, status: number, text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw configError(`${server.origin} did not answer as a portal-mfa service (HTTP ${status}, not JSON)`, {
      hint: 'check the server URL (--server, PORTAL_MFA_SERVER or the profile)',
    });
  }
}

function errorOf(server: URL, status: number, body: Record<string, unknown>): PortalMfaError {
  const err = (body.error ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
  const code = typeof err.code === 'string' ? err.code : 'config';
  const message = typeof err.message === 'string' ? err.message : `HTTP ${status}`;
  if (code === 'route_not_found')
    return configError(`${server.origin} does not offer this (${message})`, { code: 'config', hint: 'the service may be older than this CLI' });
  const kind = KIND_OF_STATUS[status] ?? 'config';
  const details = err.details && typeof err.details === 'object' ? (err.details as Record<string, unknown>) : undefined;
  return new PortalMfaError(kind, message, { code: code as PortalMfaError['code'], details, hint: HINTS[code] });
}

/** Hints the service leaves out (they are for the CLI's reader): the common ones, in the CLI's words. */
const HINTS: Record<string, string> = {
  unauthenticated: 'run portal-mfa login again',
  missing_input: 'pass --password-stdin, or run on a terminal',
  too_many_requests: 'the service limits attempts per address: wait a moment',
};

function unreachable(server: URL, e: unknown): PortalMfaError {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const why =
    (e as Error)?.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error)?.message ?? String(e));
  return configError(`cannot reach the portal-mfa service at ${server.origin}: ${why}`, {
    code: 'config',
    hint: 'check the server URL and your network; the service must be running (portal-mfa serve)',
  });
}
