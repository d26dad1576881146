import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Scenario tests run the real CLI (`node dist/cli.js`) as a child process: build it once per test run so that
// they never exercise a stale dist/.
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], {
    stdio: 'inherit',
  });
  // As `npm run build` does: the tests run dist/cli.js directly too (its shebang), as the installed bin is run.
  chmodSync(`${root}/dist/cli.js`, 0o755);
}
