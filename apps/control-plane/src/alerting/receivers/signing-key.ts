import type { AppConfig } from '../../config/app-config';

/**
 * SLUICE_ALERT_SIGNING_KEY; undefined when unset. Deliberately no fallback to another secret: a
 * control plane without it neither routes notifications nor runs the delivery worker, so it can
 * never send (or fail) a notification that another process of the cluster would have signed.
 */
export function signingKey(config: AppConfig): string | undefined {
  return config.SLUICE_ALERT_SIGNING_KEY;
}
