/**
 * The renderer (src/cli/render.ts): colour is applied after data is sanitised, so a coloured cell
 * is an escape the terminal obeys while data can never smuggle one in; one time format.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { IOStreams } from '../../src/cli/io.js';
import {
  elide,
  fitColumns,
  fitCommandLine,
  humanTime,
  humanTimeUntil,
  isoOrNull,
  loadTerminalSupport,
  Output,
  painted,
  wrapWords,
} from '../../src/cli/render.js';

function output(tty: boolean) {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (b: Buffer) => (text += b.toString()));
  const io: IOStreams = {
    stdin: new PassThrough(),
    stdout,
    stderr: new PassThrough(),
    stdinIsTTY: false,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    color: tty,
    colorErr: tty,
    canPrompt: false,
  };
  return { io, text: () => text };
}

describe('render', () => {
  it('fields: a painted cell is coloured on a colour terminal and plain otherwise; data inside it stays escaped', async () => {
    const tty = output(true);
    await loadTerminalSupport(tty.io);
    new Output(tty.io, { json: false, quiet: false }).fields([
      ['mfa', painted('none', 'red')],
      ['user', 'x\u001b[2Jy'],
      ['name', painted('a\u001b[31mb', 'green')],
    ]);
    expect(tty.text()).toContain('\u001b[31mnone\u001b[39m');
    expect(tty.text()).not.toContain('\\x1b[31mnone');
    expect(tty.text()).toContain('x\\x1b[2Jy');
    expect(tty.text()).toContain('\u001b[32ma\\x1b[31mb\u001b[39m');

    const pipe = output(false);
    new Output(pipe.io, { json: false, quiet: false }).fields([['mfa', painted('none', 'red')]]);
    expect(pipe.text()).toBe('mfa  none\n');
  });

  it('table: coloured cells keep their columns aligned', async () => {
    const tty = output(true);
    await loadTerminalSupport(tty.io);
    new Output(tty.io, { json: false, quiet: false }).table(
      [
        { header: 'mfa', value: (r: { m: string; e: string }) => r.m, color: (v, s) => (v === 'active' ? s.green(v) : s.red(v)) },
        { header: 'email', value: (r) => r.e },
      ],
      [
        { m: 'active', e: 'a@x' },
        { m: 'none', e: 'b@x' },
      ],
    );
    // eslint-disable-next-line no-control-regex
    const plain = tty
      .text()
      .replace(/\u001b\[\d+m/g, '')
      .split('\n');
    expect(plain.slice(0, 3)).toEqual(['MFA     EMAIL', 'active  a@x', 'none    b@x']);
  });

  it('one human time format; JSON times to the second; end times never early', () => {
    const t = Date.UTC(2026, 11, 1, 14, 3, 5, 123);
    expect(humanTime(t)).toBe('2026-12-01 14:03 UTC');
    expect(humanTime(null)).toBe('-');
    expect(humanTimeUntil(t)).toBe('2026-12-01 14:04 UTC');
    expect(humanTimeUntil(Date.UTC(2026, 11, 1, 14, 3))).toBe('2026-12-01 14:03 UTC');
    expect(isoOrNull(t)).toBe('2026-12-01T14:03:05Z');
    expect(isoOrNull(undefined)).toBeNull();
  });

  it('wrapWords breaks prose between words only', () => {
    expect(wrapWords('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapWords('short', 40)).toEqual(['short']);
    expect(wrapWords('a verylongword b', 5)).toEqual(['a', 'verylongword', 'b']);
    expect(wrapWords('no width known', undefined)).toEqual(['no width known']);
  });
});

describe('tables fitted to the terminal (issue 23)', () => {
  const cols = [{ header: 'email' }, { header: 'name', drop: 1 }, { header: 'state', whole: true }, { header: 'created', whole: true, drop: 2 }];
  it('the natural widths when the table fits', () => {
    expect(fitColumns(cols, [20, 10, 6, 20], 80)).toEqual({ shown: [0, 1, 2, 3], widths: [20, 10, 6, 20] });
    expect(fitColumns(cols, [20, 10, 6, 20], undefined).shown).toEqual([0, 1, 2, 3]);
  });
  it('optional columns give way, the highest drop first, before a cell is cut', () => {
    expect(fitColumns(cols, [20, 10, 6, 20], 50).shown).toEqual([0, 1, 2]);
    expect(fitColumns(cols, [20, 10, 6, 20], 30).shown).toEqual([0, 2]);
  });
  it('then the widest cuttable column narrows, never below its header or 6 cells; whole columns keep their width', () => {
    const { shown, widths } = fitColumns(cols, [40, 10, 6, 20], 30);
    expect(shown).toEqual([0, 2]);
    expect(widths[0]).toBe(22);
    expect(widths[2]).toBe(6);
    expect(fitColumns([{ header: 'organisations' }], [40], 5).widths).toEqual([13]);
  });
  it('a cut cell ends in …; a command line loses its comment, then breaks with \\', () => {
    expect(elide('frank@globex.example', 9)).toBe('frank@gl…');
    expect(elide('short', 9)).toBe('short');
    expect(fitCommandLine('  portal-mfa status --as devon@example.com   # your own', 50)).toBe('  portal-mfa status --as devon@example.com');
    expect(fitCommandLine('  portal-mfa disable --user devon@example.com --ticket SUP-1 --as sam@support.example', 60)).toBe(
      '  portal-mfa disable --user devon@example.com --ticket \\\n      SUP-1 --as sam@support.example',
    );
  });
});

describe('prose on a terminal (issue 23)', () => {
  it('warnings and notes on a terminal stderr break between words; in a pipe they stay one line', () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (b: Buffer) => (err += b.toString()));
    const text = 'acme requires MFA from 2026-12-15 09:00 UTC: enrol before then with portal-mfa enroll';
    const io = { ...output(false).io, stderr, stderrIsTTY: true, errColumns: 40 };
    new Output(io, { json: false, quiet: false }).warn(text);
    new Output(io, { json: false, quiet: false }).info(text);
    const lines = err.trimEnd().split('\n');
    expect(lines.every((l) => l.length <= 40)).toBe(true);
    expect(lines[0]).toBe('warning: acme requires MFA from');
    expect(lines.join(' ')).toBe(`warning: ${text} ${text}`);
    let piped = '';
    const pipe = new PassThrough();
    pipe.on('data', (b: Buffer) => (piped += b.toString()));
    new Output({ ...output(false).io, stderr: pipe }, { json: false, quiet: false }).warn(text);
    expect(piped).toBe(`warning: ${text}\n`);
  });
});
