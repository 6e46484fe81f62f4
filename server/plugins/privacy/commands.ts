import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { HttpError } from '../../core/errors';
import type { CliCommand, Runtime } from '../../core/plugin';

/** `--user` takes an account id or an e-mail address. */
async function userId(rt: Runtime, who: unknown): Promise<string> {
  const users = rt.services.get('accounts.users');
  const s = String(who ?? '').trim();
  const found = s.includes('@') ? await users.findByEmail(s) : await users.findById(s);
  if (!found) throw new HttpError(404, `no account ${s}`);
  return found.id;
}

export const privacyCommands: CliCommand[] = [
  {
    name: 'privacy:export',
    description: 'write everything held about a person to a zip file',
    options: [
      { flags: '--user <id-or-email>', description: 'the person' },
      { flags: '--out <file>', description: 'zip file to write' },
    ],
    async run(rt, o) {
      if (!o.out) throw new HttpError(400, '--out is required');
      const { stream } = await rt.services.get('privacy').exportArchive(await userId(rt, o.user), { id: 'cli', via: 'admin' });
      await pipeline(stream, createWriteStream(String(o.out)));
      console.log(`written ${String(o.out)}`);
    },
  },
  {
    name: 'privacy:erase',
    description: 'erase a person (or finish an interrupted erasure with --erasure ID)',
    options: [
      { flags: '--user <id-or-email>', description: 'the person' },
      { flags: '--erasure <id>', description: 'an unfinished erasure, as listed by --list' },
      { flags: '--list', description: 'list unfinished erasures' },
    ],
    async run(rt, o) {
      const privacy = rt.services.get('privacy');
      if (o.list) {
        for (const e of await privacy.unfinished())
          console.log(`${e._id}  ${e.email ?? ''}  started ${e.startedAt.toISOString()}  steps done: ${e.steps.join(', ')}`);
        return 0;
      }
      const by = { id: 'cli', via: 'admin' as const };
      const id = o.erasure ? undefined : await userId(rt, o.user);
      try {
        const done = id ? await privacy.erase(id, by) : await privacy.resume(String(o.erasure), by);
        console.log(`erasure ${done._id}: ${done.status}`);
        return 0;
      } catch (err) {
        // Interrupted: the message says to run it again (`--list` shows its id).
        if (!(err instanceof HttpError) || err.status !== 503) throw err;
        console.error(`error: ${err.message}`);
        return 1;
      }
    },
  },
];
