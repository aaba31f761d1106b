import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';

export function registerServiceKeyList(group: CommandUnknownOpts, act: Act): void {
  withExamples(group.command('list').description('the service keys: name, scopes, created, last used, revoked (never the keys)'), [
    'portal-mfa service-key list',
    'portal-mfa service-key list --json',
  ]).action(act(list));
}

async function list(ctx: CommandContext): Promise<void> {
  const { listServiceKeys } = await import('../../../core/usecases/serviceKeys.js');
  const { supportOrOperator } = await import('../service-key.js');
  const { deps, actor } = await supportOrOperator(ctx, 'service-key.list');
  const keys = await listServiceKeys(deps, actor);
  if (ctx.out.json) {
    ctx.out.printJson(
      keys.map((k) => ({
        ...k,
        createdAt: isoOrNull(k.createdAt),
        lastUsedAt: isoOrNull(k.lastUsedAt),
        revokedAt: isoOrNull(k.revokedAt),
      })),
    );
    return;
  }
  if (keys.length === 0) {
    ctx.out.info('no service keys (create one with portal-mfa service-key create)');
    return;
  }
  ctx.out.table(
    [
      { header: 'name', value: (k: (typeof keys)[number]) => k.name },
      { header: 'scopes', value: (k) => k.scopes.join(' ') },
      { header: 'created', value: (k) => `${humanTime(k.createdAt)} by ${k.createdBy}` },
      { header: 'last used', value: (k) => humanTime(k.lastUsedAt) },
      { header: 'revoked', value: (k) => (k.revokedAt === null ? '-' : `${humanTime(k.revokedAt)} by ${k.revokedBy}`) },
    ],
    keys,
  );
}
