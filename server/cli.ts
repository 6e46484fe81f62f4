/**
 * `npm run lms -- <command>`. Core commands plus those each enabled plugin declares. A command
 * boots the plugins without listening, reusing the embedded engine if a server runs on DATA_DIR.
 */
import { Command } from 'commander';
import { createLmsApp } from './app';
import { loadConfig } from './core/config';
import { runningServerUrl } from './core/server-address';
import type { CliCommand, Runtime } from './core/plugin';
import { resolvePlugins } from './core/plugin';
import { ENGINE_VERSION } from './core/db/engine';
import { HttpError } from './core/errors';
import { allPlugins } from './plugins';
import { eventTableMarkdown } from './core/events/hooks';

const coreCommands: CliCommand[] = [
  {
    name: 'events:table',
    description: 'print every event of the enabled plugins: kind, emitter, handlers (Markdown)',
    async run(rt) {
      console.log(eventTableMarkdown(rt.hooks));
    },
  },
  {
    name: 'db:status',
    description: 'print the database engine, version, address and collections',
    options: [{ flags: '--json', description: 'machine-readable output' }],
    async run(rt, o) {
      const db = rt.db.db!;
      const build = await db
        .admin()
        .command({ buildInfo: 1 })
        .catch(() => ({}) as Record<string, unknown>);
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      const counts: Record<string, number> = {};
      for (const c of collections.map((c) => c.name).sort()) counts[c] = await db.collection(c).estimatedDocumentCount();
      const status = {
        engine: rt.config.mongodbUri ? 'mongodb' : 'ferretdb (embedded, SQLite)',
        version: rt.config.mongodbUri
          ? String(build.version ?? 'unknown')
          : `FerretDB ${ENGINE_VERSION} (MongoDB ${String(build.version ?? '?')} compatible)`,
        address: `${(rt as Runtime & { address?: string }).address}`,
        database: rt.config.dbName,
        dataDir: rt.config.mongodbUri ? undefined : rt.config.dataDir,
        collections: counts,
      };
      if (o.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`engine:      ${status.engine}`);
        console.log(`version:     ${status.version}`);
        console.log(`address:     ${status.address}`);
        console.log(`database:    ${status.database}`);
        if (status.dataDir) console.log(`data dir:    ${status.dataDir}`);
        console.log(`collections: ${Object.keys(counts).length}`);
        for (const [name, n] of Object.entries(counts)) console.log(`  ${name.padEnd(36)} ${n}`);
      }
    },
  },
  {
    name: 'jobs:run',
    description: 'run a periodic job now (without a name: list the jobs and their interval variables)',
    args: '[name]',
    async run(rt, _o, [name]) {
      if (!name) {
        for (const j of rt.jobs.list()) console.log(`${j.name.padEnd(28)} every ${j.everyMs / 1000} s  (${j.intervalVar})`);
        return;
      }
      const started = Date.now();
      await rt.jobs.run(name);
      console.log(`${name}: done in ${Date.now() - started} ms`);
    },
  },
];

async function main(argv: string[]): Promise<number> {
  // Without BASE_URL, commands run beside a started server use the address it answers on.
  const running = process.env.BASE_URL ? undefined : runningServerUrl(process.env.DATA_DIR ?? './data');
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env, ...(running ? { BASE_URL: running } : {}) });
  const plugins = resolvePlugins(allPlugins, config.plugins);
  const program = new Command('lms').description('Operate the learning server').exitOverride();
  let exitCode = 0;
  const commands = [...coreCommands, ...plugins.flatMap((p) => p.commands ?? [])];
  for (const cmd of commands) {
    const c = program.command(cmd.name + (cmd.args ? ` ${cmd.args}` : '')).description(cmd.description);
    for (const o of cmd.options ?? []) c.option(o.flags, o.description, o.default as string | boolean | undefined);
    c.action(async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const lms = await createLmsApp({ config, plugins, mode: 'cli' });
      try {
        const rt = Object.assign(lms as Runtime, { address: lms.database.address });
        exitCode = (await cmd.run(rt, command.opts(), command.args)) ?? 0;
        // What the command wrote is followed up before it exits (a server would do it otherwise).
        await lms.events.settled();
      } catch (err) {
        // Bad input to a command is the operator's mistake: say what is wrong, exit 1, no stack.
        if (!(err instanceof HttpError) || err.status >= 500) throw err;
        console.error(`error: ${err.message}`);
        exitCode = 1;
      } finally {
        await lms.close();
      }
    });
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (code !== undefined) return code; // commander already printed help or the usage error
    throw err;
  }
  return exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  },
);
