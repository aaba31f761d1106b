import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { startProgress } from '../../progress.js';
import { withExamples } from '../examples.js';

export function registerKeysCheck(keys: CommandUnknownOpts, act: Act): void {
  withExamples(
    keys
      .command('check')
      .description('decrypt every stored secret with the configured key(s): counts per key id, failures by user id (exit 10 if any); changes nothing'),
    ['portal-mfa keys check', 'portal-mfa keys check --json'],
  ).action(act(check));
}

async function check(ctx: CommandContext): Promise<void> {
  const { mfaDeps } = await import('../../actor.js');
  const { checkKeys } = await import('../../../core/usecases/keyCheck.js');
  const { configError } = await import('../../../core/errors.js');
  const deps = await mfaDeps(ctx);
  const progress = await startProgress(ctx, { label: 'checking' });
  let result: Awaited<ReturnType<typeof checkKeys>>;
  try {
    result = await checkKeys(deps, (done) => progress.update(done));
  } finally {
    progress.done();
  }
  if (ctx.out.json) ctx.out.printJson({ total: result.total, byKeyId: result.byKeyId, failed: result.failures.length, failures: result.failures });
  else {
    ctx.out.fields([['secrets', String(result.total)], ...Object.entries(result.byKeyId).map(([id, n]) => [`key ${id}`, String(n)] as [string, string])]);
    for (const f of result.failures) ctx.out.line(`cannot decrypt: credential ${f.credentialId} of user ${f.userId} (key ${f.keyId})`);
  }
  if (result.failures.length > 0) {
    throw configError(`${result.failures.length} of ${result.total} secret(s) cannot be decrypted with the configured key(s)`, {
      hint: 'set PORTAL_MFA_KEY or --key-file to include the key(s) listed',
      details: { failed: result.failures.length },
    });
  }
}
