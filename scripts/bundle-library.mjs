#!/usr/bin/env node
// Build step after `tsc`: the library for CommonJS consumers (`require('portal-mfa')`).
//
// The ES modules tsc wrote (dist/src) are what `import 'portal-mfa'` loads. A CommonJS backend gets
// the same code as one CommonJS file, dist/cjs/index.cjs, with every package left outside (each
// library dependency ships CommonJS, so nothing relies on Node's require(esm)), and the same type
// declarations re-exported as CommonJS-flavoured .d.cts (dist/cjs/index.d.cts), so TypeScript with
// `module: node16`/`nodenext` and `@arethetypeswrong/cli` agree on what `require` returns.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'cjs');
mkdirSync(out, { recursive: true });

/** import.meta.url of each module stays the URL of its ES file in dist/src (the password worker sits beside it). */
const moduleUrls = {
  name: 'per-module-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
      const relative = path.relative(out, args.path).split(path.sep).join('/');
      const text = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, __bundleUrl).href`);
      return { contents: text, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(root, 'dist', 'src', 'index.js')],
  outfile: path.join(out, 'index.cjs'),
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [moduleUrls],
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});

// The declarations, bundled by nothing: a .d.cts that names the ES declarations would make
// TypeScript treat `require('portal-mfa')` as an ES module; so the tree is written again under
// dist/cjs as .d.cts files (same text, CommonJS-flavoured by extension, relative imports renamed).
copyDeclarations(path.join(root, 'dist', 'src'), out);

function copyDeclarations(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'cli') continue; // the CLI is not part of the library
      copyDeclarations(src, path.join(to, entry.name));
    } else if (entry.name.endsWith('.d.ts')) {
      mkdirSync(to, { recursive: true });
      const text = readFileSync(src, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.js\2/g, '$1$2$3.cjs$2');
      writeFileSync(path.join(to, entry.name.replace(/\.d\.ts$/, '.d.cts')), text);
    }
  }
}
