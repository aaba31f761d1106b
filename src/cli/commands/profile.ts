import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerProfileList } from './profile/list.js';
import { registerProfileShow } from './profile/show.js';

/** `profile`: the config file's profiles (SPEC §8): list them, show the one in use and where each setting comes from. */
export function registerProfile(program: CommandUnknownOpts, act: Act): void {
  const profile = program.command('profile').description('config profiles: list them, show the one in use and where each setting comes from');
  registerProfileList(profile, act);
  registerProfileShow(profile, act);
}
