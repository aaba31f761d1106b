import { readFileSync } from 'node:fs';
import { type CommandUnknownOpts, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { configError, usageError } from '../../core/errors.js';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { withExamples } from './examples.js';
import { type OptionsOf, wholeNumber } from './flags.js';

/** HOST:PORT, [IPv6]:PORT or :PORT (all addresses); port 0 takes a free one (it is printed). */
function parseListen(raw: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidArgumentError('Expected HOST:PORT, e.g. 127.0.0.1:8750 or [::1]:8750.');
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const define = (program: CommandUnknownOpts) =>
  program
    .command('serve')
    .description('the HTTP service: the same rules as a JSON API (OpenAPI at /openapi.json) for portals and the remote CLI')
    .addOption(new Option('--listen <host:port>', 'address to listen on').default(parseListen('127.0.0.1:8750'), '127.0.0.1:8750').argParser(parseListen))
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--trusted-proxy <cidr>', 'a reverse proxy whose X-Forwarded-For is believed (repeatable; address or CIDR)', collect)
    .option('--cors-origin <origin>', 'a browser origin allowed to call (repeatable; none by default)', collect)
    .addOption(
      new Option('--address-limit <n>', 'sign-in attempts and failed authentications per client address per minute')
        .default(60)
        .argParser(wholeNumber({ min: 1, max: 100_000 })),
    )
    .addOption(new Option('--pool <n>', 'database connections (MySQL/MariaDB)').default(10).argParser(wholeNumber({ min: 1, max: 1000 })))
    .addOption(new Option('--log-level <level>', 'the JSON log on stdout').choices(['debug', 'info', 'warn', 'error'] as const).default('info' as const))
    .addHelpText('after', '\nStops on SIGTERM or SIGINT after the requests in flight are answered. docs/operator/service.md has the set-up.');
type ServeOptions = OptionsOf<typeof define>;

export function registerServe(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa serve                                         # http://127.0.0.1:8750',
    'portal-mfa serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem',
    'portal-mfa serve --listen 127.0.0.1:8750 --trusted-proxy 127.0.0.1 --profile prod',
  ]).action(act(serve));
}

/** How long the policy read from the database is used before it is read again (support's changes reach a running service). */
const POLICY_CACHE_MS = 5_000;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw configError(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function serve(ctx: CommandContext, opts: ServeOptions): Promise<void> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw usageError('--tls-cert and --tls-key go together');
  const ipaddr = (await import('ipaddr.js')).default;
  for (const p of opts.trustedProxy ?? []) {
    if (!ipaddr.isValid(p) && !isCidr(ipaddr, p)) throw usageError(`--trusted-proxy: not an address or CIDR block: ${JSON.stringify(p.slice(0, 60))}`);
    // a careless operator's "trust everything": every client could then name its own address and
    // walk past the per-address budget (SECURITY.md)
    if (isCidr(ipaddr, p) && ipaddr.parseCIDR(p)[1] === 0)
      throw usageError(`--trusted-proxy ${p} trusts every client to name its own address`, { hint: "list the reverse proxy's own addresses" });
  }
  for (const o of opts.corsOrigin ?? []) {
    let origin = '';
    try {
      origin = new URL(o).origin;
    } catch {
      /* refused below */
    }
    if (origin !== o) throw usageError(`--cors-origin: not an origin (scheme://host[:port]): ${JSON.stringify(o.slice(0, 60))}`);
  }
  const https = opts.tlsCert !== undefined ? { cert: readPem(opts.tlsCert, 'certificate'), key: readPem(opts.tlsKey!, 'key') } : undefined;
  const db = await ctx.database({ pool: { max: opts.pool } });
  // the key must be there now, not at the first enrolment
  ctx.keyring();
  const { effectiveSettings, readPolicy } = await import('../../core/rules/policy.js');
  let cached: { at: number; settings: Awaited<ReturnType<typeof effectiveSettings>> } | undefined;
  const settings = async () => {
    const now = Date.now();
    if (!cached || now - cached.at > POLICY_CACHE_MS)
      cached = { at: now, settings: effectiveSettings(await readPolicy(db.store), ctx.requestedLimits, ctx.settings.issuer) };
    return cached.settings;
  };
  const { buildService } = await import('../../service/app.js');
  const { noticeDeliverer } = await import('../../service/delivery.js');
  const { VERSION } = await import('../version.js');
  const app = await buildService({
    core: {
      deps: { db: db.store, clock: ctx.clock, random: ctx.random, origin: ctx.origin, keyring: () => ctx.keyring() },
      settings,
      deliver: noticeDeliverer(db.store, ctx.smtp, ctx.clock),
    },
    version: VERSION,
    logger: { level: opts.logLevel, stream: ctx.io.stdout },
    trustedProxies: opts.trustedProxy,
    corsOrigins: opts.corsOrigin,
    https,
    addressLimit: { attempts: opts.addressLimit, windowMs: 60_000 },
  });
  const stop = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  let address: string;
  try {
    address = await app.listen({ host: opts.listen.host, port: opts.listen.port });
  } catch (e) {
    await app.close().catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    throw configError(`cannot listen on ${opts.listen.host}:${opts.listen.port}: ${code ?? (e as Error).message}`, {
      hint: code === 'EADDRINUSE' ? 'another process uses that port: choose another with --listen' : undefined,
    });
  }
  ctx.io.stderr.write(`portal-mfa serve: listening on ${address} (stop with SIGTERM or Ctrl-C)\n`);
  const signal = await stop;
  ctx.io.stderr.write(`portal-mfa serve: ${signal}: answering the requests in flight, then stopping\n`);
  await app.close();
}

function isCidr(ipaddr: typeof import('ipaddr.js'), raw: string): boolean {
  try {
    ipaddr.parseCIDR(raw);
    return true;
  } catch {
    return false;
  }
}
