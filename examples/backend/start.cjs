'use strict';
/** Opens portal-mfa from the environment and starts the app; prints the address, then serves until SIGTERM. */
async function start(portalMfa, createApp) {
  const mfa = await portalMfa.openPortalMfa({
    databaseUrl: process.env.PORTAL_DB,
    keys: String(process.env.PORTAL_MFA_KEY ?? '').split(','),
  });
  const server = createApp(mfa, { isPortalMfaError: portalMfa.isPortalMfaError });
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  const stop = () => server.close(() => mfa.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop).on('SIGINT', stop);
}
module.exports = { start };
