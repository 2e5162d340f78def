import { parseArgs } from 'node:util';
import { CONFIG_OPTIONS, startGateway } from '@mini-agent/gateway';

export function gatewayHelp(): string {
  const width = Math.max(...CONFIG_OPTIONS.map((o) => `${o.flag} <value>`.length));
  const lines = CONFIG_OPTIONS.map(
    (o) => `  ${`${o.flag} <value>`.padEnd(width)}  ${o.env}\n  ${''.padEnd(width)}  ${o.description} Default: ${o.default}`,
  );
  return [
    'Usage: mini-agent gateway [options]',
    '',
    'Starts the tools gateway (GET /tools, POST /invoke). Each option can also be set by its',
    'environment variable; a flag wins over the variable.',
    '',
    ...lines,
    '  -h, --help',
  ].join('\n');
}

/** `mini-agent gateway`: flags become the same settings as their environment variables. */
export async function gatewayCommand(argv: string[]): Promise<void> {
  const options = Object.fromEntries(CONFIG_OPTIONS.map((o) => [o.flag.slice(2), { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${gatewayHelp()}\n`);
    return;
  }
  const overrides: Record<string, string> = {};
  for (const o of CONFIG_OPTIONS) {
    const value = (values as Record<string, unknown>)[o.flag.slice(2)];
    if (typeof value === 'string') overrides[o.env] = value;
  }
  await startGateway(overrides);
}
