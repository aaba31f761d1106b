import { homedir } from 'node:os';
import { join } from 'node:path';

/** XDG base directories, as the spec's "user's data/config directory". */
function dataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.trim() !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'portal-mfa');
}

export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'portal-mfa');
}

export function embeddedDatabasePath(env: NodeJS.ProcessEnv): string {
  return join(dataDir(env), 'portal.db');
}
