// A scaling decision's inputs (the figures the policy used) as one line of text for the scaling
// panel.

/** The loop records about 25; a bound keeps a row readable whatever a policy adds. */
export const MAX_INPUTS = 60;

/**
 * Every input as `name=value`, in the order the API gives. (A cut of the JSON text lost the later
 * inputs: the database stores them as jsonb, which orders keys by length, not by meaning.)
 */
export function inputsText(inputs: unknown): string {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs))
    return JSON.stringify(inputs) ?? '';
  return Object.entries(inputs)
    .slice(0, MAX_INPUTS)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}
