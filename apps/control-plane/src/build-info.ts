// Version from package.json; commit from the environment (set by CI or the container build).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { version: string };

export const BUILD_INFO = {
  version: pkg.version,
  commit: process.env.SLUICE_COMMIT ?? 'dev',
};
