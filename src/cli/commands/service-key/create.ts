import { type CommandUnknownOpts, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import type { OptionsOf } from '../flags.js';

const SCOPES = ['vouch', 'support', 'reports'] as const;

const define = (group: CommandUnknownOpts) =>
  group
    .command('create')
    .description('a new API key for a service (shown once; only its hash is stored)')
    .requiredOption('--name <name>', "the service's name, recorded as who vouched (e.g. laravel-portal)")
    .addOption(
      new Option('--scope <scope>', 'what the key may call (repeatable): vouch, support, reports')
        .argParser((value: string, previous: string[] | undefined) => {
          if (!(SCOPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${SCOPES.join(', ')}.`);
          return [...(previous ?? []), value];
        })
        .makeOptionMandatory(),
    );
type CreateOptions = OptionsOf<typeof define>;

export function registerServiceKeyCreate(group: CommandUnknownOpts, act: Act): void {
  withExamples(define(group), [
    'portal-mfa service-key create --name laravel-portal --scope vouch',
    'portal-mfa service-key create --name reporting --scope reports --json',
    'portal-mfa --as sam@support.example service-key create --name helpdesk --scope support --scope vouch',
  ]).action(act(create));
}

async function create(ctx: CommandContext, opts: CreateOptions): Promise<void> {
  const { createServiceKey, validateServiceName } = await import('../../../core/usecases/serviceKeys.js');
  validateServiceName(opts.name);
  const { supportOrOperator } = await import('../service-key.js');
  const { deps, actor } = await supportOrOperator(ctx, 'service-key.create');
  const made = await createServiceKey(deps, actor, { name: opts.name, scopes: opts.scope });
  if (ctx.out.json) {
    ctx.out.printJson({ id: made.id, name: made.name, scopes: made.scopes, key: made.key });
    return;
  }
  ctx.out.success(`service key ${made.name} created (scopes: ${made.scopes.join(', ')})`);
  ctx.out.line(`Its key (shown once; give it to the service as a secret): ${made.key}`);
}
