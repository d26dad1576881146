// Dockerfile: what it COPYs exists and reaches the build context, its bases are pinned, it builds with dev
// dependencies and runs with production ones, it agrees with daemonset.yaml, and its runtime command starts
// outside Docker (no engine here) with /app mapped to this checkout.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execForm, inContext, parseCopy, parseDockerfile, parseEnv, stages, type Stage } from './dockerfile.js';
import { loadDeployment, repoRoot } from './k8s.js';
import { GC_FLAGS, HEAP_FLAGS, MALLOC_ENV } from '../../../src/launch/heap-bound.js';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'));
const all = stages(parseDockerfile(dockerfile));
const runtime = all.at(-1)!;
const { podSpec, container, volumes } = loadDeployment();

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const lastOf = (stage: Stage, keyword: string) => of(stage, keyword).at(-1);
const runs = (stage: Stage) => of(stage, 'RUN').map((i) => i.rest);
const workdir = (stage: Stage) => lastOf(stage, 'WORKDIR')?.rest ?? '/';
const runtimeEnv = Object.assign({}, ...of(runtime, 'ENV').map(parseEnv)) as Record<string, string>;

/** Pinned = an exact x.y.z release tag or a digest; never `latest`, a bare name, or a moving major tag. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && /^v?\d+\.\d+\.\d+(\b|-)/.test(tag);
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** A path inside the image, mapped to this checkout: the runtime WORKDIR holds what the repo root holds. */
function toRepo(p: string): string {
  const wd = workdir(runtime).replace(/\/$/, '');
  return p.startsWith(`${wd}/`) ? join(repoRoot, p.slice(wd.length + 1)) : p;
}

function runOutside(argv: string[]) {
  const [cmd, ...args] = argv.map(toRepo);
  // `node` in the image is the base image's Node (24); here it is the Node running the tests.
  const exe = cmd === 'node' ? process.execPath : cmd!;
  return spawnSync(exe, args, {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...runtimeEnv },
  });
}

describe('Dockerfile reader', () => {
  // The checks below rely on it; it must see a bad Dockerfile as bad.
  it('tells pinned from floating base images', () => {
    for (const ok of ['node:20.18.1-bookworm-slim', 'node:20.18.1', `node@sha256:${'a'.repeat(64)}`, 'docker.io/library/node:20.18.1-alpine3.20']) {
      expect(isPinned(ok), ok).toBe(true);
    }
    for (const bad of ['node', 'node:latest', 'node:20', 'node:20-slim', 'node:lts-bookworm-slim', 'localhost:5000/node']) {
      expect(isPinned(bad), bad).toBe(false);
    }
  });

  it('joins continuations, skips comments, reads COPY flags, ENV pairs and exec form', () => {
    const ins = parseDockerfile(
      '# c\nFROM a:1.2.3 AS b\nENV A=1 \\\n    B="two words"\nCOPY --from=b --chown=0:0 /x /y ./\nCMD ["run"]\nCMD run\n',
    );
    expect(ins.map((i) => i.keyword)).toEqual(['FROM', 'ENV', 'COPY', 'CMD', 'CMD']);
    expect(parseEnv(ins[1]!)).toEqual({ A: '1', B: 'two words' });
    expect(parseCopy(ins[2]!)).toEqual({ line: 5, from: 'b', sources: ['/x', '/y'], dest: './' });
    expect(execForm(ins[3]!)).toEqual(['run']);
    expect(() => execForm(ins[4]!)).toThrow(/exec \(JSON\) form/);
    expect(() => parseDockerfile('FORM a\n')).toThrow(/unknown instruction/);
  });

  it('applies .dockerignore like Docker: last match wins, parents count, ! re-includes', () => {
    const ignore = '*\n!src\n!package.json\nsrc/**/*.test.ts\n';
    expect(inContext('src/cli.ts', ignore)).toBe(true);
    expect(inContext('src/a/b.test.ts', ignore)).toBe(false);
    expect(inContext('package.json', ignore)).toBe(true);
    expect(inContext('node_modules/x/index.js', ignore)).toBe(false);
    expect(inContext('dist', ignore)).toBe(false);
  });
});

describe('Dockerfile', () => {
  it('is multi-stage: the last stage is the runtime, every base image is pinned', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const names = new Set<string>();
    for (const s of all) {
      if (!names.has(s.image)) expect(isPinned(s.image), `FROM ${s.image}`).toBe(true);
      if (s.name) names.add(s.name);
    }
  });

  it('item 15: runs on a supported Node LTS (22 or 24, not Node 20: end of life 2026-04-30) that engines accepts', () => {
    const min = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(min, `engines.node ${pkg.engines.node}`).toBeDefined();
    for (const s of all.filter((x) => x.image.startsWith('node:'))) {
      const version = /^node:(\d+\.\d+\.\d+)/.exec(s.image)![1]!;
      expect(['22', '24']).toContain(version.split('.')[0]);
      expect(versionAtLeast(version, min!), `${version} >= ${min}`).toBe(true);
    }
  });

  it('COPYs only paths that exist in the repo and that .dockerignore keeps in the build context', () => {
    const copies = all.flatMap((s) => of(s, 'COPY').map(parseCopy)).filter((c) => !c.from);
    expect(copies.length).toBeGreaterThan(0);
    expect(of(runtime, 'ADD').length + all.flatMap((s) => of(s, 'ADD')).length).toBe(0); // COPY only
    for (const c of copies) {
      for (const src of c.sources) {
        expect(existsSync(join(repoRoot, src)), `COPY ${src} (line ${c.line}) exists`).toBe(true);
        expect(inContext(src, dockerignore), `COPY ${src} (line ${c.line}) is not in .dockerignore`).toBe(true);
      }
    }
  });

  it('keeps local build output and state out of the build context', () => {
    for (const p of ['node_modules/yaml/package.json', 'dist/cli.js', '.git/HEAD', '.tailship-state/x', 'tailship-out/x.ndjson', 'test/unit/x.test.ts', '.env']) {
      expect(inContext(p, dockerignore), p).toBe(false);
    }
  });

  it('builds with dev dependencies: npm ci, then tsc over every source tsconfig includes', () => {
    const build = all.find((s) => s.name && of(runtime, 'COPY').some((c) => parseCopy(c).from === s.name))!;
    expect(build, 'a stage the runtime copies from').toBeDefined();
    expect(runs(build).some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    expect(runs(build).some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(pkg.scripts.build).toMatch(/\btsc\b/);
    const copied = of(build, 'COPY').flatMap((c) => parseCopy(c).sources);
    for (const inc of tsconfig.include as string[]) {
      expect(copied, `tsconfig include ${inc} is copied into the build stage`).toContain(inc.split('/')[0]);
    }
    expect(copied).toContain('tsconfig.json');
  });

  it('runs with production dependencies only, plus the compiled dist/ of the build stage', () => {
    expect(runs(runtime).some((r) => /\bnpm ci --omit=dev --ignore-scripts\b/.test(r))).toBe(true);
    const fromBuild = of(runtime, 'COPY').map(parseCopy).filter((c) => c.from);
    const buildStage = all.find((s) => s.name === fromBuild[0]?.from)!;
    expect(fromBuild.map((c) => c.sources)).toEqual([[`${workdir(buildStage)}/${tsconfig.compilerOptions.outDir}`]]);
    expect(fromBuild.every((c) => !c.sources.some((s) => s.includes('node_modules')))).toBe(true);
  });

  it('may skip install scripts: no production dependency has one', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
    const withScripts = Object.entries(lock.packages as Record<string, any>)
      .filter(([path, p]) => path !== '' && !p.dev && p.hasInstallScript)
      .map(([path]) => path);
    expect(withScripts).toEqual([]);
  });

  it('the compiled code imports only Node built-ins and production dependencies', () => {
    const files = readdirSync(join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toContain('cli.js');
    const specifiers = new Set<string>();
    for (const f of files) {
      const js = readFileSync(join(repoRoot, 'dist', f), 'utf8');
      for (const m of js.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) specifiers.add(m[1]!);
    }
    const bare = [...specifiers].filter((s) => !s.startsWith('.') && !s.startsWith('node:'));
    const packages = new Set(bare.map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/')));
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it("the runtime stage's files alone (package.json, production node_modules from the lock, dist/) run the agent", () => {
    // What `npm ci --omit=dev` + `COPY --from=build /app/dist` leave in /app, built from this checkout without
    // network: every non-dev top-level package of package-lock.json, copied with what it nests.
    const app = mkdtempSync(join(tmpdir(), 'tailship-runtime-'));
    try {
      const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
      for (const [path, p] of Object.entries(lock.packages as Record<string, any>)) {
        if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || p.dev) continue;
        if (p.optional && !existsSync(join(repoRoot, path))) continue; // another platform's optional binary
        cpSync(join(repoRoot, path), join(app, path), { recursive: true });
      }
      for (const c of of(runtime, 'COPY').map(parseCopy).filter((x) => !x.from)) {
        for (const src of c.sources) cpSync(join(repoRoot, src), join(app, src), { recursive: true });
      }
      cpSync(join(repoRoot, 'dist'), join(app, 'dist'), { recursive: true });
      // A real run, to its end: one small audit log through parse, batch and the file sink, then exit 0.
      const log = join(app, 'kubernetes.audit');
      writeFileSync(log, '{"kind":"Event","auditID":"r1","stage":"ResponseComplete","stageTimestamp":"2026-11-20T08:00:00.000000Z"}\n');
      const r = spawnSync(process.execPath, [join(app, 'dist/cli.js'), ...execForm(lastOf(runtime, 'CMD')!), '--listen', 'off', '--exit-when-idle'], {
        cwd: app,
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...runtimeEnv, TAILSHIP_STATE_DIR: join(app, 'state'), TAILSHIP_SINK: `file:${join(app, 'out')}`, 'aliyun_logs_audit-test': log, 'aliyun_logs_audit-test_product': 'k8s-audit' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(app, 'out', 'audit-test.ndjson'), 'utf8')).toContain('"auditID":"r1"');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('agrees with daemonset.yaml: state dir, user, port, production mode', () => {
    const state = container.volumeMounts?.find((m) => volumes.find((v) => v.name === m.name)?.hostPath?.path === '/var/lib/tailship');
    expect(runtimeEnv).toMatchObject({ NODE_ENV: 'production', TAILSHIP_STATE_DIR: state?.mountPath });
    const user = lastOf(runtime, 'USER')?.rest;
    expect(user?.split(':')[0]).toBe(String(container.securityContext?.runAsUser ?? podSpec.securityContext?.runAsUser));
    expect(of(runtime, 'EXPOSE').map((i) => i.rest)).toEqual([String(container.ports?.[0]?.containerPort)]);
    // The DaemonSet passes args only; the image supplies the command.
    expect(container.command).toBeUndefined();
  });

  it('sets the heap flags and malloc settings the `tailship` command sets, as daemonset.yaml does', () => {
    const wanted = { NODE_OPTIONS: HEAP_FLAGS.join(' '), ...MALLOC_ENV };
    expect(runtimeEnv).toMatchObject(wanted);
    const daemonsetEnv = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    expect(daemonsetEnv).toMatchObject(wanted);
  });

  it('starts: the runtime ENTRYPOINT with --version (as `docker run IMAGE --version`) exits 0 outside Docker', () => {
    const entrypoint = execForm(lastOf(runtime, 'ENTRYPOINT')!);
    // `--` ends Node's options (item 6 of issue 10: Node 20 takes `--env-file` anywhere in argv as its own).
    // The GC flags node takes only on its command line; the heap flags are in NODE_OPTIONS (the test above).
    expect(entrypoint).toEqual(['node', ...GC_FLAGS, '--', `${workdir(runtime)}/dist/cli.js`]);
    expect(existsSync(toRepo(entrypoint.at(-1)!)), 'dist/cli.js is built (src/cli.ts)').toBe(true);
    const r = runOutside([...entrypoint, '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(pkg.version);
  });

  it('item 6: the ENTRYPOINT leaves --env-file to tailship (a missing file is tailship exit 2, not node exit 9)', () => {
    const r = runOutside([...execForm(lastOf(runtime, 'ENTRYPOINT')!), 'config', '--env-file', '/nope']);
    expect(r.stderr).not.toMatch(/^node:/m);
    expect(r.status, r.stderr).toBe(2);
  });

  it('item 15: the image listens on every address (TAILSHIP_LISTEN=[::]:2020), on the EXPOSEd port', () => {
    expect(runtimeEnv.TAILSHIP_LISTEN).toBe('[::]:2020');
    expect(of(runtime, 'EXPOSE').map((i) => i.rest)).toEqual([runtimeEnv.TAILSHIP_LISTEN!.split(':').at(-1)]);
  });

  it('its default command is `run`, which the DaemonSet also passes', () => {
    expect(execForm(lastOf(runtime, 'CMD')!)).toEqual(['run']);
    expect(container.args?.[0]).toBe('run');
  });

  it('puts a working `tailship` on PATH for `kubectl exec ... -- tailship config`', () => {
    const run = runs(runtime).find((r) => r.includes('/usr/local/bin/tailship'));
    const fmt = /printf '([^']*)' > \/usr\/local\/bin\/tailship/.exec(run ?? '')?.[1];
    expect(fmt, 'RUN printf \'...\' > /usr/local/bin/tailship').toBeDefined();
    expect(run).toMatch(/chmod 0?755 \/usr\/local\/bin\/tailship/);
    // Produce the wrapper exactly as the image build does (sh printf), with /app mapped to this checkout.
    const dir = mkdtempSync(join(tmpdir(), 'tailship-wrapper-'));
    try {
      const wrapper = join(dir, 'tailship');
      const made = spawnSync('sh', ['-c', `printf '${fmt}'`], { encoding: 'utf8' });
      expect(made.status).toBe(0);
      writeFileSync(wrapper, made.stdout.replaceAll(`${workdir(runtime)}/`, repoRoot));
      chmodSync(wrapper, 0o755);
      const r = spawnSync(wrapper, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin`, ...runtimeEnv } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(pkg.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
