// The contexts file: where it lives, its permissions, and which context a command uses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, readConfig, upsertContext, writeConfig } from '../src/config/config-file';
import { resolveTarget } from '../src/config/resolve-context';
import { CliError } from '../src/exit-codes';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-cfg-'));

describe('config file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/sluice/config.yaml');
    expect(configPath({ HOME: '/home/u' })).toBe('/home/u/.config/sluice/config.yaml');
  });

  it('is written 0600 in a 0700 folder and read back', () => {
    const file = path.join(tmp(), 'sluice', 'config.yaml');
    const config = upsertContext(
      { currentContext: null, contexts: [] },
      { name: 'a', url: 'http://a', token: 't' },
    );
    writeConfig(file, config);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readConfig(file, () => undefined)).toEqual(config);
  });

  it('narrows a file others can read back to 0600, with a warning', () => {
    const file = path.join(tmp(), 'config.yaml');
    writeConfig(file, { currentContext: null, contexts: [] });
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    readConfig(file, (m) => warnings.push(m));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings[0]).toMatch(/readable by other users \(mode 644\); changed it to 600/);
  });

  it('names the file and the fix when it is not a config', () => {
    const file = path.join(tmp(), 'config.yaml');
    fs.writeFileSync(file, 'contexts: [{ name: a }]\n', { mode: 0o600 });
    expect(() => readConfig(file, () => undefined)).toThrow(
      /contexts\[0\] needs string fields name, url and token/,
    );
  });

  it('replacing a context keeps the others and makes it current', () => {
    const a = { name: 'a', url: 'http://a', token: '1' };
    const b = { name: 'b', url: 'http://b', token: '2' };
    const next = upsertContext({ currentContext: 'b', contexts: [a, b] }, { ...a, token: '3' });
    expect(next.currentContext).toBe('a');
    expect(next.contexts).toEqual([b, { ...a, token: '3' }]);
  });
});

describe('resolveTarget', () => {
  const config = {
    currentContext: 'a',
    contexts: [
      { name: 'a', url: 'http://a/', token: '1' },
      { name: 'b', url: 'http://b', token: '2' },
    ],
  };

  it('uses the current context, or the one named', () => {
    expect(resolveTarget(config, {})).toEqual({ url: 'http://a', token: '1', source: 'context a' });
    expect(resolveTarget(config, {}, 'b').url).toBe('http://b');
  });

  it('lets SLUICE_URL and SLUICE_TOKEN override the file', () => {
    expect(resolveTarget(config, { SLUICE_URL: 'http://env', SLUICE_TOKEN: 'e' })).toEqual({
      url: 'http://env',
      token: 'e',
      source: 'environment',
    });
  });

  it('says how to log in when nothing is configured, and names unknown contexts', () => {
    expect(() => resolveTarget({ currentContext: null, contexts: [] }, {})).toThrow(/sluice login --url URL/);
    expect(() => resolveTarget(config, {}, 'zz')).toThrow(CliError);
  });
});
