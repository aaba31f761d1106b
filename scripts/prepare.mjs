#!/usr/bin/env node
// `npm install` in a clone builds dist/ (tsc, the CLI bundle, the CommonJS library), so that
// `npx portal-mfa demo` works right after it. npm runs `prepare` only for the project itself and for
// git dependencies — never for a consumer installing the packed tarball, which already carries dist/.
// Still, a source tree without its build tools (a production install of a git checkout) is told so
// instead of failing half-way.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

if (!existsSync('tsconfig.json') || !existsSync('src')) process.exit(0);
try {
  createRequire(`${process.cwd()}/`).resolve('typescript');
} catch {
  console.warn('portal-mfa: not building dist/ (the dev dependencies are not installed: run npm install without --omit=dev)');
  process.exit(0);
}
execSync('npm run build', { stdio: 'inherit' });
