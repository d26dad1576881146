// The `--help` text (SPEC §1), built from the flag table.

import { FLAGS, defaultText } from './flags.js';

function buildHelp(): string {
  const rows = FLAGS.map((d) => {
    const left = `  ${d.flag}${d.meta ? ' ' + d.meta : ''}`;
    const env = d.kind === 'bool' ? `${d.env}=true` : d.env;
    return `${left.padEnd(34)}${d.help}\n${' '.repeat(34)}[${env}] (default: ${defaultText(d)})`;
  });
  return [
    'tailship: tail log files and ship them; a vendor-neutral drop-in for logtail-ds (aliyun_logs_* configuration).',
    '',
    'Usage: tailship [run|config|status|replay] [flags]',
    '',
    'Commands:',
    '  run (default)                   discover the configuration, tail, ship; stops cleanly on SIGTERM/SIGINT',
    '  config                          print the resolved configuration as JSON (secrets masked); exit 2 if invalid',
    '  status [--json]                 print per-file progress from the state dir',
    '  replay [--dry-run] [--json]     send the dead-letter spool ({state-dir}/dead-letter/) to --sink again;',
    '                                  exit 0 when nothing is left in it, 1 when entries stay (refused again)',
    '  policy simulate --policy FILE [--per-event] [--json] LOG...',
    '                                  what an audit policy would keep of audit logs (plain or .gz); ships nothing',
    '  webhook-kubeconfig --server URL [--ca FILE] [--client-cert FILE --client-key FILE] [--paths]',
    '                                  print the kubeconfig for kube-apiserver --audit-webhook-config-file',
    '  --help, -h                      this text',
    '  --version, -v                   the version',
    '',
    'Flags (each also from its env var in brackets; the flag wins; --flag VALUE and --flag=VALUE both work):',
    ...rows,
    `${'  --json'.padEnd(34)}status, replay: print JSON`,
    `${'  --dry-run'.padEnd(34)}replay: list what would be sent, send nothing`,
    '',
    'Sizes (N) take an optional K, M or G suffix (powers of 1024), e.g. 16M. Durations (MS) take ms, s or m, e.g. 10s.',
    '',
    'Inputs: set aliyun_logs_{key}=/abs/path/to/file.log (plus _tags, _product, _jsonfile, _logstore, … suffixes)',
    'in the env, in an --env-file, or in the container env of a static pod manifest in --manifests.',
    'TAILSHIP_TAGS=k1=v1,k2=v2 adds tags to every input. Check with: tailship config',
  ].join('\n');
}

/** The `--help` text: every command and flag, with its env var and default. */
export const HELP_TEXT: string = buildHelp();
