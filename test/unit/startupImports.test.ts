/**
 * What every start of the CLI loads: main.ts and, through src/cli/commands/index.ts, every command's
 * file (its definition, examples and run function). So `--help`, `help org users`, completion and
 * usage errors stay cheap, a command file imports the core, the database layer and the packages a
 * run needs inside its run function (`await import(…)`), never at its top. This follows the static
 * imports from main.ts (type-only imports are erased by tsc and do not count) and checks that none
 * of them reaches a package but commander, the core API or the CLI's context and actor.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');

/** `import … from 'x'`, `import 'x'`, `export … from 'x'`, without the type-only ones. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+([^;'"]*?)\s*from\s*'([^']+)'|^import\s+'([^']+)'/gm)) {
    if (m[4] !== undefined) {
      found.push(m[4]);
      continue;
    }
    const clause = m[2]!.trim();
    if (clause.startsWith('type ')) continue;
    if (m[1] === 'export' && !/^(\{|\*)/.test(clause)) continue;
    // `import { type A, type B } from …` is erased too
    const names = /^\{([^}]*)\}$/.exec(clause)?.[1];
    if (names?.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    found.push(m[3]!);
  }
  return found;
}

function loadedAtStartUp(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (!spec.startsWith('.')) {
        if (!spec.startsWith('node:')) packages.add(spec);
        continue;
      }
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      expect(existsSync(target), `${path.relative(ROOT, file)} imports ${spec}`).toBe(true);
      visit(target);
    }
  };
  visit(MAIN);
  return { files, packages };
}

describe('start-up loads the command definitions, not what the commands run', () => {
  let walked: { files: Set<string>; packages: Set<string> } | undefined;
  const startUp = () => (walked ??= loadedAtStartUp());
  const relative = () => [...startUp().files].map((f) => path.relative(ROOT, f));

  it('reaches every command file (the walk follows the imports)', () => {
    expect(relative()).toContain('src/cli/commands/org/users.ts');
    expect(relative()).toContain('src/cli/commands/enroll.ts');
  });

  it('no package but commander', () => {
    expect([...startUp().packages]).toEqual(['@commander-js/extra-typings']);
  });

  it('no use case, database connection, command context or actor', () => {
    const heavy = ['src/core/api.ts', 'src/db/connect.ts', 'src/cli/context.ts', 'src/cli/actor.ts', 'src/cli/enrolFlow.ts'];
    expect(relative().filter((f) => heavy.includes(f))).toEqual([]);
  });
});
