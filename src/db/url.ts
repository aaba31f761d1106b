import { usageError } from '../core/errors.js';

export type DatabaseTarget =
  | { dialect: 'sqlite'; filename: string; embedded: boolean }
  | {
      dialect: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      params: Record<string, string>;
    };

/**
 * Parse a portal-mfa database URL: `sqlite:PATH` (also `sqlite://PATH`) or
 * `mysql://user:pass@host:port/db` (`mariadb://` is accepted as an alias).
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
    let parsed: URL;
    try {
      parsed = new URL(url.replace(/^mariadb:/i, 'mysql:'));
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
    return {
      dialect: 'mysql',
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port,
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

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw usageError('invalid percent-encoding in the database URL', { hint: 'write % as %25 in the user, password or database name' });
  }
}

/** Replace the password of a URL with ***, so a URL can be printed. */
export function maskDatabaseUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):.*@/i, '$1:***@');
}

/** A human description of where the data lives, without secrets. */
export function describeTarget(t: DatabaseTarget): string {
  if (t.dialect === 'sqlite') return `sqlite:${t.filename}${t.embedded ? ' (embedded default)' : ''}`;
  return `mysql://${t.user ? `${t.user}${t.password ? ':***' : ''}@` : ''}${t.host}:${t.port}/${t.database}`;
}
