'use strict';
// The example portal backend as a CommonJS program: require('portal-mfa').
const portalMfa = require('portal-mfa');
const { createApp } = require('./app.cjs');
const { start } = require('./start.cjs');

start(portalMfa, createApp).catch((e) => {
  console.error(e.message);
  process.exit(1);
});
