import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { configError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerDbCheck(db: CommandUnknownOpts, act: Act): void {
  withExamples(
    db
      .command('check')
      .description('hold the identity mapping against the live database: tables, columns, indexes, privileges, hash formats, shared emails, orphans'),
    ['portal-mfa db check', 'portal-mfa --profile prod db check --json'],
  ).action(act(check));
}

async function check(ctx: CommandContext): Promise<void> {
  const db = await ctx.database();
  const { checkPortal } = await import('../../../core/usecases/attach.js');
  const report = await checkPortal(db.store, ctx.clock());
  if (ctx.out.json) ctx.out.printJson(report);
  else {
    const mark = { ok: ctx.out.style.green('✓'), warning: ctx.out.style.yellow('!'), problem: ctx.out.style.red('✗') };
    for (const item of report.items) ctx.out.line(`${mark[item.level]} ${item.check.padEnd(10)}  ${item.message}`);
    const warnings = report.items.filter((i) => i.level === 'warning').length;
    if (report.usable) ctx.out.line(`portal-mfa can serve this portal${warnings ? ` (${warnings} warning(s))` : ''}`);
  }
  if (!report.usable) {
    const first = report.items.find((i) => i.level === 'problem')!;
    throw configError(`portal-mfa cannot serve this portal: ${first.message}`, {
      hint: 'see docs/operator/attach.md',
      code: first.check === 'mapping' ? 'mapping_missing' : 'mapping_invalid',
    });
  }
}
