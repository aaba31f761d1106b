import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/service/openapi.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('docs/openapi.json', () => {
  it('is the document the route schemas make (regenerate with: npm run openapi)', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const checkedIn = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
    expect(checkedIn, 'docs/openapi.json is out of date: run npm run openapi').toEqual(await openApiDocument(version));
  });

  it('describes every endpoint with its error responses', async () => {
    const doc = (await openApiDocument('test')) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const [url, methods] of Object.entries(doc.paths)) {
      if (!url.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(methods))
        expect(Object.keys(op.responses), `${method} ${url}`).toEqual(expect.arrayContaining(['400', '401', '429']));
    }
  });
});
