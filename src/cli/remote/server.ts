import { isIP } from 'node:net';
import { usageError } from '../../core/errors.js';
import type { GlobalOptions } from '../commands/globals.js';
import type { Profile } from '../profiles.js';

/**
 * Which portal-mfa service the CLI talks to instead of a database (issue 24 item 3): --server, else
 * PORTAL_MFA_SERVER, else the profile's `server`; undefined: the database (local mode). Plain http
 * is refused except to a loopback address — a password and session tokens must not cross a network
 * in clear text.
 */
export function resolveServer(globals: GlobalOptions, env: NodeJS.ProcessEnv, profile: Profile | undefined): URL | undefined {
  const fromEnv = env.PORTAL_MFA_SERVER?.trim();
  const [raw, source] =
    globals.server !== undefined
      ? [globals.server, '--server']
      : fromEnv
        ? [fromEnv, 'PORTAL_MFA_SERVER']
        : profile?.server !== undefined
          ? [profile.server, `server of profile "${profile.name}" in ${profile.file}`]
          : [undefined, ''];
  if (raw === undefined) return undefined;
  if (globals.db !== undefined) throw usageError('--db and a server cannot be combined', { hint: `the server (${source}) reaches the database itself` });
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usageError(`not a URL in ${source}: ${JSON.stringify(raw.slice(0, 60))}`, { hint: 'e.g. https://mfa.portal.example' });
  }
  if (url.username || url.password) throw usageError(`${source}: no credentials in the server URL`, { hint: 'log in with portal-mfa login' });
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw usageError(`${source}: plain http is refused except to a loopback address (${url.hostname} is not one)`, {
      hint: 'use https://; http:// is only for 127.0.0.1, ::1 or localhost',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError(`${source}: the server URL must start with https://`);
  if (url.search || url.hash) throw usageError(`${source}: the server URL takes no query or fragment`);
  return url;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}
