import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import { confirmOrCancel } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { type Progress, progressFactory } from '../../progress.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf } from '../flags.js';

const define = (keys: CommandUnknownOpts) =>
  keys
    .command('rotate')
    .description('re-encrypt every secret under a new key, in batches (resumable; one rotation at a time; needs --yes without a terminal)')
    .requiredOption('--new-key-file <file>', 'file with the new base64 key (e.g. from: openssl rand -base64 32)')
    .addOption(dryRunOption('say how many secrets would be re-encrypted, change nothing'));
type RotateOptions = OptionsOf<typeof define>;

export function registerKeysRotate(keys: CommandUnknownOpts, act: Act): void {
  withExamples(define(keys), [
    'openssl rand -base64 32 > new.key && portal-mfa keys rotate --new-key-file new.key',
    'portal-mfa keys rotate --new-key-file new.key --key-file current.key',
  ]).action(act(rotate));
}

async function rotate(ctx: CommandContext, opts: RotateOptions): Promise<void> {
  const { rotateKeys, secretsNotUnderKey } = await import('../../../core/usecases/keyRotation.js');
  const { mfaDeps } = await import('../../actor.js');
  const { keyFilePathFor, keyFileRotation, keySourceOf, readKeyFile } = await import('../../keySource.js');
  const newKey = readKeyFile(opts.newKeyFile)[0]!;
  const source = keySourceOf({ keyFile: ctx.globals.keyFile }, ctx.env, ctx.target());
  const deps = await mfaDeps(ctx); // opens the database first: a missing <db>.key is only generated for one without secrets
  const oldKeys = ctx.keyring();
  const pending = await secretsNotUnderKey(deps, newKey.id);
  if (opts.dryRun) {
    if (ctx.out.json) ctx.out.printJson({ dryRun: true, newKeyId: newKey.id, wouldRotate: pending });
    else ctx.out.line(`would re-encrypt ${pending} secret(s) under key ${newKey.id}\ndry run: nothing was changed`);
    return;
  }
  if (pending > 0) await confirmOrCancel(ctx, `Re-encrypt ${pending} secret(s) under key ${newKey.id}?`);
  const keyFile = source.kind === 'file' ? source.path : source.kind === 'embedded' ? keyFilePathFor(source.path) : undefined;
  const steps = keyFileRotation(keyFile, oldKeys, newKey);
  deps.keyring = steps.keyring;

  // the total is known once the rotation has counted the secrets: the bar starts then
  const makeProgress = await progressFactory(ctx);
  let progress: Progress | undefined;
  let result: Awaited<ReturnType<typeof rotateKeys>>;
  try {
    result = await rotateKeys(deps, newKey, {
      onProgress: (done, total) => {
        progress ??= makeProgress({ label: 're-encrypting', total });
        progress.update(done, total);
      },
      onLocked: steps.onLocked,
      onComplete: steps.onComplete,
    });
  } finally {
    progress?.done();
  }
  if (ctx.out.json) {
    ctx.out.printJson({ newKeyId: result.newKeyId, rotated: result.rotated, complete: true, keyFile: keyFile ?? null });
    return;
  }
  ctx.out.success(
    result.alreadyDone ? `every secret is already under key ${result.newKeyId}` : `re-encrypted ${result.rotated} secret(s) under key ${result.newKeyId}`,
  );
  if (keyFile) ctx.out.line(`${keyFile} now encrypts with the new key; older keys stay on the following lines for reading until you remove them.`);
  else ctx.out.line('Now set PORTAL_MFA_KEY to the new key everywhere (during a rotation, PORTAL_MFA_KEY="NEW,OLD" reads both).');
}
