import { existsSync } from 'node:fs';
import type { CommandContext } from '../context.js';

/**
 * The organisation slugs, one a line, for `--org` completion. Reads the database only if it
 * exists already (completion must never create the embedded database) and never migrates.
 */
export async function completeOrgs(ctx: CommandContext): Promise<void> {
  const target = ctx.target();
  if (target.dialect === 'sqlite' && !existsSync(target.filename)) return;
  const db = await ctx.database({ checkSchema: false });
  const rows: { slug: string }[] = await db.knex('organisations').select('slug').orderBy('slug').limit(5000);
  // only plain slugs reach the shell: nothing it would interpret
  const slugs = rows.map((r) => r.slug).filter((s) => /^[A-Za-z0-9._-]+$/.test(s));
  if (slugs.length) ctx.io.stdout.write(slugs.join('\n') + '\n');
}
