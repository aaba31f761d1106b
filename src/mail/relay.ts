/**
 * Where notices go (SPEC §7, §8): the relay and sender named in the portal's stored delivery policy
 * — never a relay the person running a command picks. A client's own SMTP settings
 * (PORTAL_MFA_SMTP_URL or a profile's smtp_url) only lend the relay's credentials and TLS options,
 * and only when they name that same relay; anything else is ignored and said so.
 */
import type { DeliveryPolicy } from '../core/rules/policy.js';
import { configError } from '../core/errors.js';
import { resolveSmtpConfig, type SmtpConfig } from './smtpConfig.js';

export interface Relay {
  /** the SMTP settings to deliver with; undefined: notices stay in the outbox */
  smtp: SmtpConfig | undefined;
  /** why the client's own SMTP settings were not used (for operators, on stderr) */
  ignored?: string;
}

/** The relay of a delivery policy as SMTP settings (no credentials), or a configuration error naming the policy. */
export function policyRelay(delivery: DeliveryPolicy): SmtpConfig {
  let relay: SmtpConfig;
  try {
    relay = resolveSmtpConfig({ PORTAL_MFA_SMTP_URL: delivery.relay, PORTAL_MFA_MAIL_FROM: delivery.from })!;
  } catch (e) {
    // the parser names its environment variables; here the values come from the policy
    const message = (e as Error).message.replaceAll('PORTAL_MFA_SMTP_URL', 'the relay').replaceAll('PORTAL_MFA_MAIL_FROM', 'the sender');
    throw configError(`the notice delivery policy: ${message}`, {
      code: 'invalid_config',
      hint: 'support sets it with: portal-mfa policy set --smtp-relay smtp://host:port --mail-from ADDRESS',
    });
  }
  if (relay.user !== null || relay.password !== null) {
    // the policy is readable by every client: credentials belong in the operator's protected config
    throw configError('the notice delivery policy names a relay with credentials: give smtp://host:port only', {
      code: 'invalid_config',
      hint: "the relay's user and password go in the operator's PORTAL_MFA_SMTP_URL or profile smtp_url (same host and port)",
    });
  }
  return relay;
}

export function resolveRelay(delivery: DeliveryPolicy | null, client: SmtpConfig | undefined): Relay {
  if (!delivery) {
    return {
      smtp: undefined,
      ignored: client
        ? `${client.display} ignored: the portal's delivery policy names no relay (support sets one with portal-mfa policy set --smtp-relay)`
        : undefined,
    };
  }
  const relay = policyRelay(delivery);
  if (!client) return { smtp: relay };
  const same = client.host.toLowerCase() === relay.host.toLowerCase() && client.port === relay.port && client.secure === relay.secure;
  if (!same) return { smtp: relay, ignored: `${client.display} ignored: notices go to the portal's relay ${relay.display}` };
  return {
    smtp: {
      ...relay,
      user: client.user,
      password: client.password,
      starttls: client.starttls,
      tlsVerify: client.tlsVerify,
      timeoutMs: client.timeoutMs,
      display: client.display,
    },
  };
}
