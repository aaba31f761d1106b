/**
 * The docs by reader (issue 23): a short README that links every page in one hop, relative links and
 * anchors that resolve, and a CI script that runs the README's CI command.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

const read = (rel: string) => readFileSync(path.join(REPO_ROOT, rel), 'utf8');

function markdownUnder(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((name) => {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return markdownUnder(rel);
    return name.endsWith('.md') ? [rel] : [];
  });
}

/** Every page a reader may be sent to. */
const PAGES = ['README.md', 'SECURITY.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...markdownUnder('docs'), ...markdownUnder('bench')];

/** Markdown without fenced code blocks (their brackets are not links). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

function links(text: string): string[] {
  return [...prose(text).matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/i.test(href));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('docs', () => {
  it('the README is short', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThan(20_000);
  });

  it('the README links every page in one hop', () => {
    const linked = new Set(links(read('README.md')).map((href) => path.posix.normalize(href.split('#')[0]!)));
    const pages = PAGES.filter((p) => p !== 'README.md' && (p.startsWith('docs/') || !p.includes('/') || p === 'bench/RESULTS.md'));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const href of links(read(page))) {
        const [file, anchor] = href.split('#');
        const target = file ? path.posix.normalize(path.posix.join(path.posix.dirname(page), file)) : page;
        if (!existsSync(path.join(REPO_ROOT, target))) broken.push(`${page}: ${href} (no ${target})`);
        else if (anchor && target.endsWith('.md') && !anchors(read(target)).has(anchor)) broken.push(`${page}: ${href} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("the README's two commands, and .ci/run runs exactly the README's CI command", () => {
    const readme = read('README.md');
    expect(readme).toContain('npm install && npx portal-mfa demo');
    expect(readme).toMatch(/^npm test\b/m);
    const ci = readme.match(/`(npm run test:ci)` is what CI runs \(`\.ci\/run`\)/)?.[1];
    expect(ci).toBe('npm run test:ci');
    const commands = read('.ci/run')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(commands.at(-1)).toBe(ci);
  });
});
