import type { PortalPolicy } from '../../../core/rules/policy.js';
import type { CommandContext } from '../../context.js';
import { humanTime, isoOrNull } from '../../render.js';

/** The policy as JSON (stable camelCase names, ISO times). */
export function policyJson(p: PortalPolicy) {
  return { mfaRequired: p.mfaRequired, graceDays: p.graceDays, requiredSince: isoOrNull(p.requiredSince), limits: p.limits, delivery: p.delivery };
}

export function printPolicy(ctx: CommandContext, p: PortalPolicy): void {
  ctx.out.fields([
    [
      'mfa',
      p.mfaRequired
        ? `required for every account${p.graceDays ? ` (${p.graceDays}-day grace from ${humanTime(p.requiredSince)})` : ''}`
        : 'recommended (organisations may require it)',
    ],
    ['notices', p.delivery ? `${p.delivery.relay} from ${p.delivery.from}` : "kept in the outbox (no relay: the portal's own mailer reads it)"],
    ...Object.entries(p.limits).map(([k, v]) => [k, String(v)] as [string, string]),
  ]);
}
