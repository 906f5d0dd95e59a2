// Alertmanager's label matchers (`name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`), used by
// silences and by receivers' routes. As in Alertmanager, regexes are anchored and a missing label
// is the empty string (so `team=""` matches alerts without `team`).

export interface LabelMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  /** false for the negative forms (!= and !~). */
  readonly isEqual: boolean;
}

/** Compiles once; throws SyntaxError on a regex JavaScript refuses. */
export function compileMatchers(
  matchers: readonly LabelMatcher[],
): (labels: Readonly<Record<string, string>>) => boolean {
  const compiled = matchers.map((m) => ({
    name: m.name,
    isEqual: m.isEqual,
    test: m.isRegex ? anchored(m.value) : (v: string) => v === m.value,
  }));
  return (labels) => compiled.every((m) => m.test(labels[m.name] ?? '') === m.isEqual);
}

export function matchesAll(
  labels: Readonly<Record<string, string>>,
  matchers: readonly LabelMatcher[],
): boolean {
  return compileMatchers(matchers)(labels);
}

function anchored(source: string): (v: string) => boolean {
  const re = new RegExp(`^(?:${source})$`, 'u');
  return (v) => re.test(v);
}

/** Alertmanager's text form, e.g. `query="clicks"`. */
export function formatMatcher(m: LabelMatcher): string {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}
