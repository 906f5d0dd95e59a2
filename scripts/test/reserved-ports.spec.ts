import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStackConfig } from '../stack/config';
import { reservePorts, stackPorts, withReserved } from '../stack/reserved-ports';

describe('withReserved', () => {
  it('adds the missing ports to an empty list, sorted, once each', () => {
    expect(withReserved('\n', [56443, 52380, 52379, 52380])).toBe('52379,52380,56443');
  });

  it('keeps what the list held and adds only what it lacks, ranges included', () => {
    expect(withReserved('8080,52379-52380\n', [52379, 52380, 56443])).toBe('8080,52379-52380,56443');
  });

  it('says there is nothing to write when every port is already reserved', () => {
    expect(withReserved('52379-52380,56443', [52380, 56443])).toBeUndefined();
  });
});

describe('stackPorts', () => {
  it('names every port of the stack, the Kubernetes components included', () => {
    const ports = stackPorts(loadStackConfig());
    expect(ports).toHaveLength(11);
    expect(new Set(ports).size).toBe(11);
    expect(ports).toContain(loadStackConfig().kube.etcdPeerPort);
  });
});

describe('reservePorts', () => {
  const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ports-')), 'reserved');

  it('extends the setting and says so', () => {
    const file = tmp();
    fs.writeFileSync(file, '8080\n');
    const logs: string[] = [];
    reservePorts([52380, 56443], (m) => logs.push(m), file);
    expect(fs.readFileSync(file, 'utf8')).toBe('8080,52380,56443');
    expect(logs.join('\n')).toMatch(/reserved the stack's ports/);
  });

  it('leaves a setting that holds them alone, and a missing one without failing', () => {
    const file = tmp();
    fs.writeFileSync(file, '52380,56443');
    const logs: string[] = [];
    reservePorts([52380], (m) => logs.push(m), file);
    reservePorts([52380], (m) => logs.push(m), path.join(path.dirname(file), 'absent'));
    expect(fs.readFileSync(file, 'utf8')).toBe('52380,56443');
    expect(logs).toEqual([]);
  });

  it('says when the setting cannot be written and goes on', () => {
    // A file that reads but refuses writes (procfs answers EINVAL), as a read-only /proc/sys would.
    const logs: string[] = [];
    expect(() => reservePorts([52380], (m) => logs.push(m), '/proc/self/stat')).not.toThrow();
    expect(logs.join('\n')).toMatch(/could not reserve the stack's ports/);
  });
});
