#!/usr/bin/env node
// docs/openapi.json from the route schemas of the built service (run `npm run openapi`, which builds first).
// test/service/openapi.test.ts fails when the checked-in document is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const { openApiDocument } = await import(path.join(root, 'dist', 'src', 'service', 'openapi.js'));
const file = path.join(root, 'docs', 'openapi.json');
writeFileSync(file, `${JSON.stringify(await openApiDocument(version), null, 2)}\n`);
console.log(`wrote ${path.relative(root, file)}`);
