// The example portal backend as an ES module: import from 'portal-mfa'.
import * as portalMfa from 'portal-mfa';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createApp } = require('./app.cjs');
const { start } = require('./start.cjs');

await start(portalMfa, createApp).catch((e) => {
  console.error(e.message);
  process.exit(1);
});
