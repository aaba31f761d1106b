import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * mkdir -p without `recursive: true`: on some pseudo file systems (/proc) Node's recursive mkdir
 * never returns. Creates each missing level in turn; throws the first real error.
 */
export function ensureDirectory(path: string, mode = 0o700): void {
  const target = resolve(path);
  const missing: string[] = [];
  let current = target;
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (existsSync(current) && !statSync(current).isDirectory()) {
    const err = new Error(`${current} is not a directory`) as NodeJS.ErrnoException;
    err.code = 'ENOTDIR';
    throw err;
  }
  for (const dir of missing) mkdirSync(dir, { mode });
}
