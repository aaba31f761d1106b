/**
 * SMTP configuration from the environment (SPEC §7): PORTAL_MFA_SMTP_URL and PORTAL_MFA_MAIL_FROM.
 * Validated once, before a command touches data, so a typo is exit 10 naming the variable rather than
 * a change whose notice can never be sent. Parsing here is pure: nodemailer is loaded only to send.
 */
import { configError } from '../core/errors.js';

export interface SmtpConfig {
  host: string;
  port: number;
  /** smtps:// — TLS from the first byte (port 465); smtp:// upgrades with STARTTLS when offered */
  secure: boolean;
  user: string | null;
  password: string | null;
  /** PORTAL_MFA_MAIL_FROM as given (`Name <addr>` or `addr`) */
  from: string;
  /** the domain of the from-address, for Message-IDs */
  fromDomain: string;
  /** per-step timeout of the SMTP conversation, ms */
  timeoutMs: number;
  /** STARTTLS: 'auto' (when offered), 'required' or 'never' */
  starttls: 'auto' | 'required' | 'never';
  /** verify the server's certificate (default true) */
  tlsVerify: boolean;
  /** the URL with its password masked, for messages */
  display: string;
}

const URL_VAR = 'PORTAL_MFA_SMTP_URL';
const FROM_VAR = 'PORTAL_MFA_MAIL_FROM';
const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Mask the password of anything URL-like: between the first ':' of the user-info and the last '@'.
 * Works on malformed values too (no scheme, several '@'), since those are what error messages show.
 */
function maskUrlPassword(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const slashes = raw.indexOf('//');
  const start = slashes >= 0 && slashes < at ? slashes + 2 : 0;
  const colon = raw.slice(start, at).indexOf(':');
  if (colon < 0) return raw;
  return raw.slice(0, start + colon) + ':***' + raw.slice(at);
}

function show(raw: string): string {
  const masked = maskUrlPassword(raw.trim());
  return JSON.stringify(masked.length > 120 ? masked.slice(0, 120) + '…' : masked);
}

function decode(part: string, what: string, raw: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw configError(`${URL_VAR} has invalid percent-encoding in the ${what}: ${show(raw)}`, { hint: 'write % as %25' });
  }
}

/** The SMTP settings, or undefined when PORTAL_MFA_SMTP_URL is not set (notices then stay pending). */
export function resolveSmtpConfig(env: NodeJS.ProcessEnv): SmtpConfig | undefined {
  const raw = env[URL_VAR]?.trim() ?? '';
  if (raw === '') return undefined;
  const hint = 'use smtp://[user:password@]host[:port] or smtps://…, with special characters of the password percent-encoded';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(raw)) throw configError(`${URL_VAR} contains spaces or control characters: ${show(raw)}`, { hint });
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== 'smtp' && scheme !== 'smtps') throw configError(`${URL_VAR} must be an smtp:// or smtps:// URL: ${show(raw)}`, { hint });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(`${URL_VAR} is not a valid URL: ${show(raw)}`, { hint });
  }
  if (!raw.slice(scheme.length + 1).startsWith('//') || url.hostname === '') throw configError(`${URL_VAR} names no host: ${show(raw)}`, { hint });
  if (url.pathname !== '' && url.pathname !== '/') throw configError(`${URL_VAR} has a path, which SMTP does not use: ${show(raw)}`, { hint });
  if (url.hash !== '') throw configError(`${URL_VAR} has a #fragment: ${show(raw)}`, { hint });
  const secure = scheme === 'smtps';
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
  const user = url.username === '' ? null : decode(url.username, 'user name', raw);
  const password = url.password === '' ? null : decode(url.password, 'password', raw);
  if (password !== null && user === null) throw configError(`${URL_VAR} has a password but no user name: ${show(raw)}`, { hint });

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let starttls: SmtpConfig['starttls'] = 'auto';
  let tlsVerify = true;
  for (const [key, value] of url.searchParams) {
    if (key === 'timeout') {
      const seconds = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || seconds < 0.1 || seconds > 600)
        throw configError(`${URL_VAR}: timeout must be a number of seconds from 0.1 to 600 (got ${JSON.stringify(value.slice(0, 20))})`);
      timeoutMs = Math.round(seconds * 1000);
    } else if (key === 'starttls') {
      if (value !== 'auto' && value !== 'required' && value !== 'never')
        throw configError(`${URL_VAR}: starttls must be auto, required or never (got ${JSON.stringify(value.slice(0, 20))})`);
      starttls = value;
    } else if (key === 'tls_verify') {
      if (value !== 'true' && value !== 'false') throw configError(`${URL_VAR}: tls_verify must be true or false (got ${JSON.stringify(value.slice(0, 20))})`);
      tlsVerify = value === 'true';
    } else {
      throw configError(`${URL_VAR} has an unknown parameter ${JSON.stringify(key.slice(0, 40))}`, {
        hint: 'known parameters: timeout (seconds), starttls (auto|required|never), tls_verify (true|false)',
      });
    }
  }

  const fromRaw = env[FROM_VAR]?.trim() ?? '';
  if (fromRaw === '')
    throw configError(`${FROM_VAR} is not set, but ${URL_VAR} is`, { hint: 'set it to the sender, e.g. "Developer Portal <no-reply@portal.example>"' });
  const from = parseFromAddress(fromRaw);

  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    secure,
    user,
    password,
    from: fromRaw,
    fromDomain: from.domain,
    timeoutMs,
    starttls,
    tlsVerify,
    display: `${scheme}://${user !== null ? `${encodeURIComponent(user)}${password !== null ? ':***' : ''}@` : ''}${url.host}`,
  };
}

const ADDRESS = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$/i;

/** `addr@domain` or `Display Name <addr@domain>` (the name optionally in double quotes). */
function parseFromAddress(raw: string): { address: string; domain: string } {
  const hint = 'use an address such as no-reply@portal.example or "Developer Portal <no-reply@portal.example>"';
  const bad = () => configError(`${FROM_VAR} is not a valid from-address: ${JSON.stringify(raw.length > 120 ? raw.slice(0, 120) + '…' : raw)}`, { hint });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw) || raw.length > 320) throw bad();
  const named = /^(?:"([^"\\]*)"|([^"<>@,;:\\]*?))\s*<([^<>]+)>$/.exec(raw);
  const address = named ? named[3]!.trim() : raw;
  const m = ADDRESS.exec(address);
  if (!m) throw bad();
  return { address, domain: m[1]!.toLowerCase() };
}
