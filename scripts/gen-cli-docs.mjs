// `npm run docs:cli`: the CLI reference (docs/cli-reference.md) and the man pages (man/man1/) from
// the command definitions of the build (src/cli/reference.ts). test/unit/cliReference.test.ts
// fails when the checked-in files differ, so run this after changing a command, a flag or an example.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/src/cli/main.js';
import { cliReferenceMarkdown, manPages } from '../dist/src/cli/reference.js';
import { VERSION } from '../dist/src/cli/version.js';

const root = new URL('..', import.meta.url);
const program = buildProgram(() => async () => {}, { out: () => {}, err: () => {} });
writeFileSync(new URL('docs/cli-reference.md', root), cliReferenceMarkdown(program, VERSION));
const man = new URL('man/man1/', root);
mkdirSync(man, { recursive: true });
const pages = manPages(program, VERSION);
for (const old of readdirSync(man)) if (!pages.has(old)) rmSync(new URL(old, man));
for (const [name, text] of pages) writeFileSync(new URL(name, man), text);
console.log(`docs/cli-reference.md and ${pages.size} man pages in man/man1/`);
