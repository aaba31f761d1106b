// Build step: render `portal-mfa --help` once, so the launcher can print it without loading
// commander and the command definitions (start-up target: --help ≤ 1.3× a bare `node`).
import { writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/src/cli/main.js';

let text = '';
const program = buildProgram(() => async () => {}, { out: (s) => (text += s), err: () => {} });
program.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 80 });
program.outputHelp();
writeFileSync(new URL('../dist/help.txt', import.meta.url), text);
