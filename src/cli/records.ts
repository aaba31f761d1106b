import type { RowStream } from '../core/usecases/organisations.js';
import type { CommandContext } from './context.js';
import { csvRow } from './csv.js';
import { sanitizeCell } from './render.js';

/** Write with back-pressure, so a slow reader (or `| head`) never makes us buffer the organisation. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

/**
 * Stream records as NDJSON, CSV or TSV in batches: one write per page of a RowStream (the report's
 * own pages), or per 500 records of any other iterable.
 */
export async function streamRecords<R>(
  ctx: CommandContext,
  rows: AsyncIterable<R> | RowStream<R>,
  format: 'json' | 'csv' | 'tsv',
  columns: readonly string[],
  record: (r: R) => Record<string, unknown>,
): Promise<number> {
  const out = ctx.io.stdout;
  const line =
    format === 'json'
      ? (rec: Record<string, unknown>) => JSON.stringify(rec) + '\n'
      : format === 'csv'
        ? (rec: Record<string, unknown>) => csvRow(columns.map((c) => rec[c]))
        : (rec: Record<string, unknown>) => columns.map((c) => sanitizeCell(rec[c] === null || rec[c] === undefined ? '-' : String(rec[c]))).join('\t') + '\n';
  let n = 0;
  if (format === 'csv') await write(out, csvRow([...columns]));
  if ('pages' in rows) {
    for await (const page of rows.pages()) {
      let chunk = '';
      for (const r of page) chunk += line(record(r));
      n += page.length;
      if (chunk) await write(out, chunk);
    }
    return n;
  }
  let chunk = '';
  for await (const r of rows) {
    chunk += line(record(r));
    if (++n % 500 === 0) {
      await write(out, chunk);
      chunk = '';
    }
  }
  if (chunk) await write(out, chunk);
  return n;
}
