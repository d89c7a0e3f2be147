// Browser tests run on bundles made by scripts/build-tests.mjs, in Debian's Chromium (never a downloaded one).
import { chromeLauncher } from '@web/test-runner-chrome';
import { chromiumArgs, chromiumPath } from './scripts/chromium.mjs';

export default {
  files: ['build/test-browser/**/*.test.js'],
  nodeResolve: false,
  concurrency: 1,
  testFramework: { config: { timeout: 60000 } },
  browsers: [chromeLauncher({ launchOptions: { executablePath: chromiumPath(), headless: true, args: chromiumArgs } })],
};
