import { runAudit } from './audit-command.js';
import { EXIT, UsageError, VERSION, processIO, type CliIO } from './io.js';
import { runServe } from './serve-command.js';
import { runValidate } from './validate-command.js';

interface Command {
  readonly summary: string;
  run(args: string[], io: CliIO): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  validate: { summary: 'check MCPServer manifests offline (files, folders or stdin)', run: runValidate },
  serve: { summary: 'run the validating admission webhook (HTTPS)', run: runServe },
  audit: { summary: 'check the MCPServers already in the cluster (one-shot)', run: runAudit },
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
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`mcpserver-webhook ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
