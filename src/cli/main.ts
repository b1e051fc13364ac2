import { EXIT, UsageError, VERSION, processIO, type CliIO } from './io.js';

type Run = (args: string[], io: CliIO) => Promise<number>;

interface Command {
  readonly summary: string;
  /** Loaded only when the command runs: `validate` in CI need not start the server's libraries. */
  load(): Promise<Run>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  validate: {
    summary: 'check MCPServer manifests offline (files, folders or stdin)',
    load: async () => (await import('./validate-command.js')).runValidate,
  },
  serve: { summary: 'run the validating admission webhook (HTTPS)', load: async () => (await import('./serve-command.js')).runServe },
  audit: {
    summary: 'check the MCPServers already in the cluster (one-shot)',
    load: async () => (await import('./audit-command.js')).runAudit,
  },
  vap: {
    summary: 'print the ValidatingAdmissionPolicy that enforces the rules CEL can express',
    load: async () => (await import('./vap-command.js')).runVap,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const commands = Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join('\n');
  return `Usage: mcpserver-webhook COMMAND [options]

Validating admission webhook and offline checker for Muster MCPServer resources.

Commands:
${commands}

Run 'mcpserver-webhook COMMAND --help' for a command's options.
Options: -h, --help (this help), --version
`;
}

/** The CLI: one engine, one command per face. Returns the exit status; never throws for bad input. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`mcpserver-webhook: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const run = await command.load();
    return await run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`mcpserver-webhook ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
