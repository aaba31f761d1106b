import { readFileSync } from 'node:fs';
import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { configError, usageError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import { confirmOrCancel } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf } from '../flags.js';

const define = (db: CommandUnknownOpts) =>
  db
    .command('init')
    .description('store the identity mapping: where the portal keeps its users, organisations and memberships (see docs/operator/attach.md)')
    .option('--detect', 'recognise the portal (demo, Laravel + Jetstream, Django + django-organizations) and propose its mapping')
    .addOption(new Option('--mapping <file>', 'a mapping written by hand, as JSON (- for stdin)').conflicts('detect'))
    .option('--schema <name>', "with --detect: the database (schema) that holds the portal's tables, when portal-mfa's are elsewhere")
    .option('--support <spec>', 'with --detect: who is support — none, column:COL=V1,V2, flag:COL or table:TABLE.COL')
    .addOption(dryRunOption('print the mapping, store nothing'));
type InitOptions = OptionsOf<typeof define>;

export function registerDbInit(db: CommandUnknownOpts, act: Act): void {
  withExamples(define(db), [
    'portal-mfa db init --detect --dry-run',
    'portal-mfa db init --detect --schema portal --support column:role=support --yes',
    'portal-mfa db init --mapping mapping.json',
  ]).action(act(init));
}

/** `--support` in words to a mapping's support entry. */
function parseSupport(raw: string): unknown {
  const column = /^column:([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(raw);
  if (column) return { kind: 'column', condition: { column: column[1], in: column[2]!.split(',').map((v) => v.trim()) } };
  const flag = /^flag:([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw);
  if (flag) return { kind: 'column', condition: { column: flag[1], is: 'true' } };
  const table = /^table:([A-Za-z_][A-Za-z0-9_.]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw);
  if (table) return { kind: 'table', table: table[1], userId: table[2] };
  if (raw === 'none') return { kind: 'none' };
  throw usageError(`not a support rule: ${JSON.stringify(raw.slice(0, 60))}`, {
    hint: 'use none, column:role=support, flag:is_staff or table:support_staff.user_id',
  });
}

async function init(ctx: CommandContext, opts: InitOptions): Promise<void> {
  if (!opts.detect && opts.mapping === undefined) throw usageError('say where the mapping comes from', { hint: 'pass --detect, or --mapping FILE' });
  if (!opts.detect && (opts.schema !== undefined || opts.support !== undefined)) throw usageError('--schema and --support go with --detect');
  const db = await ctx.database();
  let raw: Record<string, unknown>;
  if (opts.detect) {
    const { detectMapping } = await import('../../../core/usecases/attach.js');
    const found = await detectMapping(db.store, opts.schema);
    if (!found.mapping) {
      throw configError(`no recognised portal in ${opts.schema ?? 'this database'}: ${found.notes.join('; ')}`, {
        code: 'mapping_missing',
        hint: 'write the mapping yourself and store it with: portal-mfa db init --mapping FILE (docs/operator/attach.md)',
      });
    }
    raw = JSON.parse(JSON.stringify(found.mapping));
    if (opts.support !== undefined) (raw.users as Record<string, unknown>).support = parseSupport(opts.support);
    else if (found.undecided.includes('support')) {
      // a schema cannot say who is support: the operator decides, never a guess
      throw usageError(`recognised ${found.preset}, but its schema does not say who is a support representative`, {
        code: 'missing_input',
        hint: 'add --support none, --support column:role=support, --support flag:is_support or --support table:support_staff.user_id',
      });
    }
    if (!ctx.out.json) for (const note of found.notes) ctx.io.stderr.write(`${note}\n`);
  } else {
    const text = opts.mapping === '-' ? await ctx.readStdinAfter(0) : readMappingFile(opts.mapping!);
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw usageError(`the mapping is not valid JSON: ${(e as Error).message.slice(0, 120)}`);
    }
  }
  const { parseMapping } = await import('../../../core/usecases/attach.js');
  const mapping = parseMapping(raw);
  if (opts.dryRun) {
    ctx.out.printJson(mapping);
    if (!ctx.out.json) ctx.out.info('dry run: nothing was stored');
    return;
  }
  if (!ctx.out.json) ctx.out.line(JSON.stringify(mapping, null, 2));
  await confirmOrCancel(ctx, db.store.mapping ? `Replace the stored '${db.store.mapping.preset}' mapping with this one?` : 'Store this mapping?');
  const { storeMapping } = await import('../../../core/usecases/attach.js');
  const stored = await storeMapping(db.store, ctx, mapping);
  if (ctx.out.json) ctx.out.printJson({ stored: true, mapping: stored });
  else ctx.out.success(`identity mapping '${stored.preset}' stored; check it with: portal-mfa db check`);
}

function readMappingFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
