import { rotateKeys, secretsNotUnderKey } from '../../core/keyRotation.js';
import type { SecretKey } from '../../core/secretBox.js';
import { mfaDeps } from '../actor.js';
import { confirmOrCancel } from '../confirm.js';
import type { RotateOptions } from '../commands/keys.js';
import type { CommandContext } from '../context.js';
import { progressFactory, startProgress, type Progress } from '../progress.js';
import { keyFilePathFor, keySourceOf, readKeyFile, writeKeyFile } from '../keySource.js';

const b64 = (k: SecretKey) => k.key.toString('base64');

export async function rotate(ctx: CommandContext, opts: RotateOptions): Promise<void> {
  const newKey = readKeyFile(opts.newKeyFile)[0]!;
  const source = keySourceOf({ keyFile: ctx.globals.keyFile }, ctx.env, ctx.target());
  const deps = await mfaDeps(ctx); // opens the database first: a missing <db>.key is only generated for one without secrets
  let oldKeys = ctx.keyring();
  const pending = await secretsNotUnderKey(deps, newKey.id);
  if (opts.dryRun) {
    if (ctx.out.json) ctx.out.printJson({ dryRun: true, newKeyId: newKey.id, wouldRotate: pending });
    else ctx.out.line(`would re-encrypt ${pending} secret(s) under key ${newKey.id}\ndry run: nothing was changed`);
    return;
  }
  if (pending > 0) await confirmOrCancel(ctx, `Re-encrypt ${pending} secret(s) under key ${newKey.id}?`);
  // A key file is updated in two steps so every process reading it can decrypt throughout:
  // now the new key is added (decrypt-only); when the rotation is complete it becomes the first.
  // Both steps happen under the rotation lock, from a fresh read of the file: a rotation that
  // finished since this command started must not have its key dropped from the file.
  const keyFile = source.kind === 'file' ? source.path : source.kind === 'embedded' ? keyFilePathFor(source.path) : undefined;
  let withNew = [...oldKeys.filter((k) => k.id !== newKey.id), newKey];
  deps.keyring = () => withNew;
  const onLocked = () => {
    if (!keyFile) return;
    oldKeys = readKeyFile(keyFile);
    withNew = [...oldKeys.filter((k) => k.id !== newKey.id), newKey];
    if (!oldKeys.some((k) => k.id === newKey.id)) writeKeyFile(keyFile, withNew.map(b64));
  };
  const onComplete = () => {
    if (keyFile) writeKeyFile(keyFile, [newKey, ...readKeyFile(keyFile).filter((k) => k.id !== newKey.id)].map(b64));
  };

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
      onLocked,
      onComplete,
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

export async function check(ctx: CommandContext): Promise<void> {
  const { checkKeys } = await import('../../core/keyCheck.js');
  const { configError } = await import('../../core/errors.js');
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
