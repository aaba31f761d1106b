/**
 * The CLI reference and the man pages are generated from the command definitions (`npm run
 * docs:cli`, src/cli/reference.ts) and checked in: this fails when they differ from what the
 * definitions give now — a new flag, a changed description or example — naming the command to run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { cliReferenceMarkdown, manPages } from '../../src/cli/reference.js';
import { VERSION } from '../../src/cli/version.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const program = () => buildProgram(() => async () => {}, { out: () => {}, err: () => {} });
const STALE = 'out of date with the command definitions: run npm run docs:cli and commit the result';

describe('generated CLI docs', () => {
  it('docs/cli-reference.md is what the definitions give', () => {
    const file = path.join(ROOT, 'docs', 'cli-reference.md');
    expect(existsSync(file), `docs/cli-reference.md is missing: ${STALE}`).toBe(true);
    expect(readFileSync(file, 'utf8'), `docs/cli-reference.md is ${STALE}`).toBe(cliReferenceMarkdown(program(), VERSION));
  });

  it('man/man1 holds one page per command, each what the definitions give, and nothing else', () => {
    const pages = manPages(program(), VERSION);
    const dir = path.join(ROOT, 'man', 'man1');
    expect(readdirSync(dir).sort(), `man/man1 is ${STALE}`).toEqual([...pages.keys()].sort());
    for (const [name, text] of pages) expect(readFileSync(path.join(dir, name), 'utf8'), `man/man1/${name} is ${STALE}`).toBe(text);
    expect(pages.get('portal-mfa-org-users.1')).toMatch(/^\.SH OPTIONS\n[\s\S]*\\-\\-mfa <state>[\s\S]*^\.SH EXAMPLES/m);
  });

  it('every command and every flag is in the reference', () => {
    const text = cliReferenceMarkdown(program(), VERSION);
    for (const flag of ['--users-from <file>', '--no-pager', '--qr <mode>', '--profile <name>', '--password-stdin']) expect(text).toContain(`\`${flag}`);
    for (const cmd of ['portal-mfa org disable-mfa', 'portal-mfa profile show', 'portal-mfa db init', 'portal-mfa keys rotate'])
      expect(text).toContain(`### ${cmd}`);
  });
});
