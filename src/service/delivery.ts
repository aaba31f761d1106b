/**
 * After a request: deliver the notices it queued (SPEC §7), to the relay the portal's delivery
 * policy names, with the operator's SMTP credentials for that relay only. Nothing here changes a
 * response: a notice that cannot go out now stays pending in the outbox (`notify send` retries).
 */
import { deliverNotifications } from '../core/notify/delivery.js';
import { readPolicy } from '../core/rules/policy.js';
import type { Db } from '../db/store.js';
import { resolveRelay } from '../mail/relay.js';
import type { SmtpConfig } from '../mail/smtpConfig.js';

const CONCURRENCY = 5;

export function noticeDeliverer(db: Db, smtp: SmtpConfig | undefined, now: () => number): (ids: number[]) => Promise<void> {
  return async (ids) => {
    const relay = resolveRelay((await readPolicy(db)).delivery, smtp);
    // no relay in the policy: the portal's own mailer reads the outbox (a supported set-up)
    if (!relay.smtp) return;
    const { createSmtpMailer } = await import('../mail/smtpMailer.js');
    const mailer = await createSmtpMailer(relay.smtp, { concurrency: CONCURRENCY });
    try {
      await deliverNotifications(db, mailer, { ids, concurrency: CONCURRENCY, now });
    } finally {
      await mailer.close().catch(() => undefined);
    }
  };
}
