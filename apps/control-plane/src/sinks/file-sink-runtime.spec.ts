import { describe, expect, it } from 'vitest';
import { compileSpec } from '@sluice/query-plan';
import { fileSinkRuntimeError } from './sink-connections.service';

const text = (sink: string) => `name: q
sources: { s: { kafka: { topic: t }, schema: { a: string } } }
sql: SELECT a FROM s
sink: ${sink}
outputMode: append
`;

function check(sink: string, runtime: 'local' | 'kubernetes') {
  const compiled = compileSpec(text(sink));
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return fileSinkRuntimeError(compiled.spec, text(sink), runtime);
}

describe('file sinks and the runtime', () => {
  it('are refused on Kubernetes at sink.file, with the reason', () => {
    expect(check('{ file: { path: out } }', 'kubernetes')).toEqual(
      expect.objectContaining({
        path: 'sink.file',
        line: 4,
        message: expect.stringContaining('local runtime'),
      }),
    );
  });

  it('are accepted by the local runtime, and other sinks by both', () => {
    expect(check('{ file: { path: out } }', 'local')).toBeUndefined();
    expect(check('{ kafka: { topic: out } }', 'kubernetes')).toBeUndefined();
  });

  it('refuse a file source on Kubernetes at sources.<name>.file, and accept it locally', () => {
    const spec = `name: q
sources:
  s:
    file: { path: in, format: jsonl }
    schema: { a: string }
sql: SELECT a FROM s
sink: { kafka: { topic: out } }
outputMode: append
`;
    const compiled = compileSpec(spec);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    expect(fileSinkRuntimeError(compiled.spec, spec, 'kubernetes')).toEqual(
      expect.objectContaining({
        path: 'sources.s.file',
        line: 4,
        message: expect.stringContaining('file sources run only under the local runtime'),
      }),
    );
    expect(fileSinkRuntimeError(compiled.spec, spec, 'local')).toBeUndefined();
  });
});
