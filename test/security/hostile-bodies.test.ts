import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, testApp } from '../helpers';
import { courseXml, writeZip } from '../catalog/fixtures/packages';
import { browserSession, listen } from './outsider';
import { walkRoutes } from './route-walk';

/**
 * Every route that takes a body (read from Express's router, so a new upload or API is covered
 * without a test of its own), sent hostile bodies by an administrator (who reaches every form)
 * with a full-scope LRS credential for /xapi: JSON nested 100,000 deep, 3 MB of JSON, malformed
 * JSON, XML with an external entity under a wrong content type, a multipart body cut off in the
 * middle of its file, a file named to climb out of the upload folder, and a zip whose entries
 * climb out (`../`, an absolute path). What must hold: a 4xx naming the problem (never a 5xx or a
 * stack trace), nothing stored (no collection gains or loses a document), no file written outside,
 * and the server still answers.
 */
describe('security: hostile bodies to every route that takes one', function () {
  this.timeout(600_000);
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let admin: Awaited<ReturnType<typeof browserSession>>;
  let csrf: string;
  let lrsAuth: string;
  let zip: Buffer;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostile-bodies-'));
  const escaped = path.join(dir, 'evil.txt');

  before(async () => {
    lms = await testApp();
    http = await listen(lms);
    const a = await makeUser(lms, { role: 'admin' });
    admin = await browserSession(http.base, a.email, a.password);
    csrf = await admin.csrf('/accounts/profile');
    const client = await lms.services.get('lrs.credentials').createClient({ name: 'hostile', scopes: ['all'] });
    lrsAuth = `Basic ${Buffer.from(`${client.key}:${client.secret}`).toString('base64')}`;
    // yazl refuses such names; they are patched in after writing (same length).
    zip = readFileSync(
      await writeZip(
        path.join(dir, 'climb.zip'),
        [
          { name: 'cmi5.xml', data: courseXml() },
          { name: 'aaaaaaaaaaaaaaaaaaaaaaa/evil.txt', data: 'escaped' },
          { name: 'xabs.txt', data: 'absolute' },
        ],
        {
          rename: [
            ['aaaaaaaaaaaaaaaaaaaaaaa/evil.txt', '../../../../../../../../evil.txt'],
            ['xabs.txt', '/abs.txt'],
          ],
        },
      ),
    );
  });
  after(async () => {
    await http?.close();
    await lms?.close();
  });

  function bodies(): Array<{ kind: string; headers: Record<string, string>; body: string | Buffer | FormData }> {
    const boundary = '----hostile0123456789';
    const truncated = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n` +
        'employee_id,name,email,unit\r\nE1,Ana,ana@a.example,A1\r\nE2,Be',
    );
    const form = (name: string, data: Blob) => {
      const f = new FormData();
      f.append('_csrf', csrf);
      f.append('file', data, name);
      return f;
    };
    return [
      { kind: 'nested JSON', headers: { 'content-type': 'application/json' }, body: '['.repeat(100_000) + ']'.repeat(100_000) },
      {
        kind: 'huge JSON',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _csrf: csrf, x: 'x'.repeat(3_000_000) }),
      },
      { kind: 'malformed JSON', headers: { 'content-type': 'application/json' }, body: `{"_csrf":"${csrf}","a":` },
      {
        kind: 'XML with an external entity',
        headers: { 'content-type': 'application/xml' },
        body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
      },
      { kind: 'truncated multipart', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: truncated },
      { kind: 'file name climbing out', headers: {}, body: form(`../../../../../../..${escaped}`, new Blob(['a,b\n1,2\n'])) },
      {
        kind: 'zip entries climbing out',
        headers: {},
        body: form('course.zip', new Blob([new Uint8Array(zip)], { type: 'application/zip' })),
      },
    ];
  }

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { name } of await lms.db.db!.listCollections().toArray())
      // A signed-in request refreshes its own session document; that is no stored input.
      if (name !== 'core_sessions') out[name] = await lms.db.db!.collection(name).countDocuments({});
    return out;
  }

  it('answers each with a 4xx naming the problem, stores nothing, writes nothing outside and stays up', async () => {
    const routes = walkRoutes(lms.app, lms.routes).filter((r) => ['post', 'put', 'patch', 'delete'].includes(r.method));
    expect(routes.length).to.be.above(50);
    const problems: string[] = [];
    for (const route of routes) {
      // Never the sign-out: the administrator stays signed in for the rest.
      if (route.path === '/accounts/logout') continue;
      const url = route.path.replace('*path', 'index.html').replace(/:\w+/g, 'x');
      const before = await counts();
      for (const b of bodies()) {
        const headers: Record<string, string> = { accept: 'application/json', ...b.headers };
        if (route.path.startsWith('/xapi/')) Object.assign(headers, { authorization: lrsAuth, 'x-experience-api-version': '1.0.3' });
        const query = route.path.startsWith('/xapi/activities') || route.path.startsWith('/xapi/agents') ? '?stateId=s&profileId=p' : '';
        const res = await admin.request(url + query, { method: route.method.toUpperCase(), headers, body: b.body as BodyInit });
        const text = await res.text();
        const at = `${route.method.toUpperCase()} ${route.path} (${b.kind}) → ${res.status}`;
        if (res.status >= 500) problems.push(`${at}: ${text.slice(0, 200)}`);
        // cmi5's fetch URL answers every request with 200, an error in the body (§8.2).
        else if (res.status < 400 && !/^\{"error-code":/.test(text)) problems.push(`${at}: accepted`);
        if (/\n\s+at [\w.<>]+ \(/.test(text)) problems.push(`${at}: stack trace`);
        if (res.status >= 400 && res.status < 500 && text.trim().length < 10) problems.push(`${at}: no message naming the problem`);
      }
      const after = await counts();
      for (const [name, n] of Object.entries(after))
        if (n !== (before[name] ?? 0)) problems.push(`${route.method} ${route.path}: ${name} ${before[name] ?? 0} → ${n}`);
    }
    expect(existsSync(escaped), 'a file written outside the upload folder').to.equal(false);
    expect(existsSync('/evil.txt') || existsSync('/abs.txt')).to.equal(false);
    expect((await fetch(`${http.base}/health`)).status).to.equal(200);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
