// Kept in step with package.json by test/unit/version.test.ts (no JSON import at start-up).
export const VERSION = '0.1.0';
