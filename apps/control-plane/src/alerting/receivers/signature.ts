// Receivers can check that a notification comes from this control plane and is fresh:
//
//   X-Sluice-Timestamp: <unix seconds>
//   X-Sluice-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
//
// (Stripe's and Slack's scheme: the timestamp is inside the MAC, so a captured request cannot be
// replayed later than the receiver's tolerance.) Each receiver has its own secret, derived from
// SLUICE_ALERT_SIGNING_KEY, the receiver's id and its secret version, so nothing secret is stored
// in the database and every replica computes the same secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-sluice-signature';
export const TIMESTAMP_HEADER = 'x-sluice-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function receiverSecret(key: string, receiverId: string, version: number): string {
  return createHmac('sha256', key).update(`sluice-receiver:${receiverId}:${version}`).digest('hex');
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (documented in ARCHITECTURE.md); used by the tests' loopback receiver. */
export function verify(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds)
    return false;
  const expected = Buffer.from(sign(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
