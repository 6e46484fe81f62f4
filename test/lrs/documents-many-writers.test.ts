/**
 * Many writers on one xAPI document through two server processes on one database: unconditional
 * POST merges each add their own property and none is lost (the loser of a race merges again into
 * the newer document); conditional writes racing on one ETag let exactly one through.
 */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { testApp, testDbUri } from '../helpers';
import { startServer, stopServer } from '../core/server-process';
import { xapiClient } from './lrs-helpers';

const WRITERS = 24;

describe('lrs: many writers on one document across two server processes', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stopServer(c, 'SIGKILL');
    await lms?.close();
  });

  it('keeps every unconditional merge, and lets one of the writers holding the same ETag through', async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    const { auth } = await xapiClient(lms);
    const env = {
      MONGODB_URI: testDbUri(),
      DB_NAME: lms.config.dbName,
      BASE_URL: lms.config.baseUrl,
      SESSION_SECRET: 'test-session-secret-0123456789',
      DATA_DIR: lms.config.dataDir,
    };
    const servers = await Promise.all([startServer(env), startServer(env)]);
    children.push(...servers.map((s) => s.child));
    const params = new URLSearchParams({
      activityId: 'https://lms.example.gov/activities/shared-doc',
      agent: JSON.stringify({ mbox: 'mailto:ana@a.example.gov' }),
      stateId: 'progress',
    });
    const send = (i: number, method: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${servers[i % 2].base}/xapi/activities/state?${params}`, {
        method,
        headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const merges = await Promise.all(Array.from({ length: WRITERS }, (_, i) => send(i, 'POST', { [`page${i}`]: i, last: i })));
    expect(merges.map((r) => r.status)).to.deep.equal(Array(WRITERS).fill(204));
    const doc = (await (await send(0, 'GET', undefined)).json()) as Record<string, number>;
    for (let i = 0; i < WRITERS; i++) expect(doc[`page${i}`], `page${i}`).to.equal(i);
    expect(doc.last).to.be.within(0, WRITERS - 1);

    // Writers that all read the same version and each ask to replace exactly it: one wins.
    const etag = (await send(1, 'GET', undefined)).headers.get('etag')!;
    const puts = await Promise.all(Array.from({ length: 8 }, (_, i) => send(i, 'PUT', { winner: i }, { 'If-Match': etag })));
    const statuses = puts.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([204, 412, 412, 412, 412, 412, 412, 412]);
    const after = (await (await send(0, 'GET', undefined)).json()) as { winner: number };
    expect(puts[after.winner].status).to.equal(204);
  });
});
