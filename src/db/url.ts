import { usageError } from '../core/errors.js';

export interface DatabaseHost {
  host: string;
  port: number;
}

export type DatabaseTarget =
  | { dialect: 'sqlite'; filename: string; embedded: boolean }
  | {
      dialect: 'mysql';
      /** the first of `hosts` */
      host: string;
      port: number;
      /** every listed server, tried in this order on connection failure (failover) */
      hosts: DatabaseHost[];
      user: string;
      password: string;
      database: string;
      params: Record<string, string>;
    };

/**
 * Parse a portal-mfa database URL: `sqlite:PATH` (also `sqlite://PATH`) or
 * `mysql://user:pass@host:port/db` (`mariadb://` is accepted as an alias). Several servers of a
 * cluster may be listed, `mysql://user:pass@h1:3306,h2:3306,h3/db`, and are tried in order.
 */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const url = raw.trim();
  if (url === '') throw usageError('the database URL is empty', { hint: 'use sqlite:PATH or mysql://user:pass@host:port/db' });
  if (/[\u0000-\u001f]/.test(url)) throw usageError('the database URL contains control characters');
  const lower = url.toLowerCase();
  if (lower.startsWith('sqlite:')) {
    let filename = url.slice('sqlite:'.length);
    if (filename.startsWith('//')) filename = filename.slice(2);
    if (filename === '') throw usageError('the sqlite URL names no file', { hint: 'use sqlite:/path/to/portal.db' });
    return { dialect: 'sqlite', filename, embedded: false };
  }
  if (lower.startsWith('mysql://') || lower.startsWith('mariadb://')) {
    const { single, hosts } = splitHostList(url);
    let parsed: URL;
    try {
      parsed = new URL(single.replace(/^mariadb:/i, 'mysql:'));
    } catch {
      throw usageError(`the database URL is not a valid URL: ${maskDatabaseUrl(url)}`, {
        hint: 'use mysql://user:pass@host:port/db (percent-encode special characters in the password)',
      });
    }
    const database = safeDecode(parsed.pathname.replace(/^\//, ''));
    if (!parsed.hostname) throw usageError('the MySQL URL names no host', { hint: 'use mysql://user:pass@host:port/db' });
    if (!database) throw usageError(`the MySQL URL names no database: ${maskDatabaseUrl(url)}`, { hint: 'use mysql://user:pass@host:port/db' });
    if (database.includes('/')) throw usageError(`invalid database name in ${maskDatabaseUrl(url)}`);
    const port = parsed.port ? Number(parsed.port) : 3306;
    const params: Record<string, string> = {};
    for (const [k, v] of parsed.searchParams) params[k] = v;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    return {
      dialect: 'mysql',
      host,
      port,
      hosts: hosts ?? [{ host, port }],
      user: safeDecode(parsed.username),
      password: safeDecode(parsed.password),
      database,
      params,
    };
  }
  throw usageError(`unsupported database URL: ${maskDatabaseUrl(url)}`, {
    hint: 'use sqlite:PATH or mysql://user:pass@host:port/db',
  });
}

/**
 * `scheme://userinfo@h1:p1,h2:p2/rest` → the URL with only the first host (for the URL parser)
 * and the parsed host list; `hosts` is undefined when a single host is given.
 */
function splitHostList(url: string): { single: string; hosts?: DatabaseHost[] } {
  const m = /^([a-z]+:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!m) return { single: url };
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const list = authority.slice(at + 1);
  if (!list.includes(',')) return { single: url };
  const hosts = list.split(',').map((spec) => {
    const bad = () =>
      usageError(`invalid host ${JSON.stringify(spec)} in the host list of ${maskDatabaseUrl(url)}`, {
        hint: 'list the servers as host:port,host:port (e.g. mysql://user:pass@db1:3306,db2:3306/portal)',
      });
    if (spec.trim() === '' || /[@\s]/.test(spec)) throw bad();
    let u: URL;
    try {
      u = new URL(`mysql://${spec}/x`);
    } catch {
      throw bad();
    }
    const port = u.port ? Number(u.port) : 3306;
    if (!u.hostname || port < 1 || port > 65535) throw bad();
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  });
  return { single: `${scheme}${userinfo}${list.split(',')[0]}${rest}`, hosts };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw usageError('invalid percent-encoding in the database URL', { hint: 'write % as %25 in the user, password or database name' });
  }
}

/**
 * Replace the password of a URL with ***, so a URL can be printed — also when the URL is
 * malformed (`mysql:/user:pw@host/db`, `mysql//user:pw@h/db`, no scheme at all): whatever lies
 * between the first `:` after the user name and the last `@` is hidden.
 */
export function maskDatabaseUrl(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  // skip a scheme-like prefix ("mysql://", "mysql:/", "mysql//", "mysql:") to reach the user name
  const prefix = /^[a-z][a-z0-9+.-]*(?::\/{0,3}|\/{2,3})/i.exec(raw)?.[0] ?? '';
  const userinfo = raw.slice(prefix.length, at);
  const colon = userinfo.indexOf(':');
  // "user:pw@host" without a scheme: what looked like a scheme was the user name
  if (colon < 0) return /^[^/]+:$/.test(prefix) && userinfo !== '' ? `${prefix}***${raw.slice(at)}` : raw;
  return `${prefix}${userinfo.slice(0, colon)}:***${raw.slice(at)}`;
}

/**
 * Mask every `user:password@` in a free text (an error message, a log line): each
 * whitespace-separated word holding a `:` before an `@` is masked as a URL.
 */
export function maskCredentials(text: string): string {
  return text
    .split(/(\s+)/)
    .map((word) => (/:[^@]*@/.test(word) ? maskDatabaseUrl(word) : word))
    .join('');
}

/** `host:port` (IPv6 in brackets), for messages. */
export function describeHost(h: DatabaseHost): string {
  return `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;
}

/** A human description of where the data lives, without secrets. */
export function describeTarget(t: DatabaseTarget): string {
  if (t.dialect === 'sqlite') return `sqlite:${t.filename}${t.embedded ? ' (embedded default)' : ''}`;
  const hosts = (t.hosts ?? [{ host: t.host, port: t.port }]).map(describeHost).join(',');
  return `mysql://${t.user ? `${t.user}${t.password ? ':***' : ''}@` : ''}${hosts}/${t.database}`;
}
