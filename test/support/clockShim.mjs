// Preloaded into portal-mfa subprocesses (`node --import clockShim.mjs?offset=MS bin/portal-mfa.js`)
// by test/support/clock.ts: shifts Date.now() by the test clock's offset, so a subprocess and the
// test agree on the TOTP step without the test sleeping until the real clock gets there. The
// offset travels in the module URL, not in the environment the CLI reads.
const offset = Number(new URL(import.meta.url).searchParams.get('offset') ?? 0);
if (Number.isFinite(offset) && offset !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}
