/**
 * Three independent instances, each its own server process and database: A publishes a course,
 * B subscribes with A's pinned key and imports it in one click (a learner completing it there is
 * not covered yet); A
 * publishes version 2 and B is offered the update; a tampered feed or package (through a
 * proxy that changes bytes on the way) is refused with nothing stored. Hub C pulling A's and
 * B's indicators is not covered yet (suppression itself is, in suppression.test.ts).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { META, validZip } from '../catalog/fixtures/packages';
import { ADMIN_PASSWORD, Browser, startInstance, type Instance } from './instances';

const COURSE = 'https://a.example/courses/gobierno-digital';
const TAMPER = 'https://a.example/courses/firma-electronica';
const PORTS = { A: 4810, B: 4811, C: 4812, proxy: 4813 };

describe('network: three instances exchange courses and indicators', function () {
  this.timeout(600_000);
  let A: Instance, B: Instance, C: Instance;
  let adminA: Browser, adminB: Browser;
  let thumbA = '';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'network-exchange-'));
  let proxy: Server;
  let tamper: 'none' | 'feed' | 'package' = 'none';

  before(async () => {
    const started = await Promise.allSettled([
      startInstance('a', PORTS.A, {
        NETWORK_COUNTRY: 'AAA',
        NETWORK_PUBLISHER: 'Escuela de Gobierno A',
        NETWORK_INDICATORS_INTERVAL: '2s',
      }),
      startInstance('b', PORTS.B, { NETWORK_COUNTRY: 'BBB', NETWORK_PUBLISHER: 'Instituto B', NETWORK_INDICATORS_INTERVAL: '2s' }),
      startInstance('c', PORTS.C, { PLUGINS: 'accounts,network', NETWORK_PUBLISHER: 'Observatorio regional' }),
    ]);
    [A, B, C] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined!));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    adminA = await new Browser(A.url).signIn('admin@a.example', ADMIN_PASSWORD);
    adminB = await new Browser(B.url).signIn('admin@b.example', ADMIN_PASSWORD);
    // A man in the middle in front of A: passes everything through, or changes bytes.
    proxy = createServer(async (req, res) => {
      const upstream = await fetch(A.url + req.url, { headers: { Accept: String(req.headers.accept ?? '*/*') } });
      let body = Buffer.from(await upstream.arrayBuffer());
      if (tamper === 'feed' && req.url === '/network/feed.json') {
        const jws = JSON.parse(body.toString());
        const payload = Buffer.from(jws.payload, 'base64url').toString().replace('Firma electrónica', 'Firma electrónica (gratis)');
        body = Buffer.from(JSON.stringify({ ...jws, payload: Buffer.from(payload).toString('base64url') }));
      }
      if (tamper === 'package' && req.url?.startsWith('/network/packages/')) {
        body = Buffer.from(body);
        body[body.length - 30] ^= 0x01;
      }
      res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(body);
    });
    await new Promise<void>((ok) => proxy.listen(PORTS.proxy, '127.0.0.1', ok));
  });
  after(async () => {
    proxy?.close();
    await Promise.all([A, B, C].filter(Boolean).map((i) => i.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const zipOf = async (name: string, id: string, title: string) =>
    readFileSync(await validZip(dir, name, { id, title, meta: META, aus: [{ url: 'index.html', moveOn: 'Completed' }] }));

  async function importAtA(name: string, id: string, title: string) {
    await adminA.page('/catalog/admin/courses');
    const r = await adminA.upload('/catalog/admin/courses', {
      field: 'package',
      name,
      data: await zipOf(name, id, title),
      type: 'application/zip',
    });
    expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201]);
    return r.body;
  }

  async function publishAtA(id: string, license?: string) {
    await adminA.page('/network/admin');
    const r = await adminA.post('/network/admin/publish', { courseId: id, ...(license ? { license } : {}) });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.published;
  }

  it('A publishes a course: signed feed with licence, publisher and package hash', async () => {
    await importAtA('v1.zip', COURSE, 'Gobierno digital');
    const p = await publishAtA(COURSE, 'CC BY 4.0');
    expect(p).to.include({ id: COURSE, version: 1, license: 'CC BY 4.0' });
    expect(p.sha256).to.match(/^[a-f0-9]{64}$/);
    const page = await adminA.page('/network/admin');
    thumbA = /id="own-thumbprint">([^<]+)</.exec(page.text)![1];
    expect(thumbA).to.have.length(43);
  });

  it('B refuses a peer whose key does not match the pinned fingerprint, and stores nothing', async () => {
    await adminB.page('/network/admin');
    const wrong = thumbA.startsWith('A') ? `B${thumbA.slice(1)}` : `A${thumbA.slice(1)}`;
    const r = await adminB.post('/network/admin/peers', { url: A.url, thumbprint: wrong });
    expect(r.status).to.equal(422);
    expect(r.body.error.message).to.match(/no Ed25519 key with the thumbprint/);
    expect((await adminB.json('/network/catalog')).body.total).to.equal(0);
    expect((await adminB.page('/network/admin')).text).to.not.contain(`<th scope="row">${A.url}`);
    const http = await adminB.post('/network/admin/peers', { url: 'http://192.0.2.1', thumbprint: thumbA });
    expect(http.status).to.equal(400);
  });

  it('B subscribes to A, finds the course in the federated catalogue and imports it with its provenance', async () => {
    await adminB.page('/network/admin');
    const r = await adminB.post('/network/admin/peers', { url: A.url, thumbprint: thumbA });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.peer).to.include({ _id: A.url, publisher: 'Escuela de Gobierno A', country: 'AAA', courses: 1 });
    expect(r.body.peer.lastError).to.equal(undefined);

    const found = await adminB.json('/network/catalog?q=gobierno%20DIGITAL&lang=pt&license=CC%20BY%204.0');
    expect(found.body.total).to.equal(1);
    expect(found.body.courses[0]).to.include({ id: COURSE, version: 1, status: 'new', publisher: 'Escuela de Gobierno A' });
    expect((await adminB.json('/network/catalog?lang=fr')).body.total).to.equal(0);

    await adminB.page('/network/catalog');
    const imp = await adminB.post('/network/catalog/import', { peer: A.url, courseId: COURSE });
    expect(imp.status, JSON.stringify(imp.body)).to.equal(200);
    expect(imp.body).to.include({ courseId: COURSE, version: 1, alreadyInstalled: false });
    expect((await adminB.json('/network/catalog')).body.courses[0].status).to.equal('installed');
  });

  it('A publishes version 2 and B is offered the update', async () => {
    await importAtA('v2.zip', COURSE, 'Gobierno digital, segunda edición');
    const page = await adminA.page('/network/admin');
    expect(page.text).to.contain('Publicar la versión 2');
    const p = await publishAtA(COURSE);
    expect(p.version).to.equal(2);
    await adminB.page('/network/admin');
    expect((await adminB.post('/network/admin/sync', {})).body).to.deep.equal({ ok: 1, failed: 0 });
    const offered = (await adminB.json('/network/catalog?q=segunda')).body.courses;
    expect(offered).to.have.length(1);
    expect(offered[0]).to.include({ version: 2, status: 'update' });
    expect((await adminB.page('/network/catalog')).text).to.contain('Actualizar a la versión 2');
    const imp = await adminB.post('/network/catalog/import', { peer: A.url, courseId: COURSE });
    expect(imp.body).to.include({ version: 2, alreadyInstalled: false });
    expect((await adminB.json('/network/catalog')).body.courses[0].status).to.equal('installed');
  });

  it('refuses a tampered feed and a tampered package, storing nothing', async () => {
    await importAtA('t.zip', TAMPER, 'Firma electrónica');
    await publishAtA(TAMPER);
    const viaProxy = `http://127.0.0.1:${PORTS.proxy}`;
    tamper = 'feed';
    await adminB.page('/network/admin');
    const added = await adminB.post('/network/admin/peers', { url: viaProxy, thumbprint: thumbA });
    expect(added.status).to.equal(200);
    expect(added.body.peer.lastError).to.match(/signature does not verify/);
    expect(added.body.peer.courses).to.equal(0);
    const fromProxy = async () =>
      (await adminB.json('/network/catalog?q=firma')).body.courses.filter(
        (c: { peer: string; id: string }) => c.peer === viaProxy && c.id === TAMPER,
      );
    expect(await fromProxy()).to.have.length(0);

    // The feed now arrives intact through the proxy, but the package does not.
    tamper = 'package';
    await adminB.post('/network/admin/sync', {});
    expect(await fromProxy()).to.have.length(1);
    await adminB.page('/network/catalog');
    const imp = await adminB.post('/network/catalog/import', { peer: viaProxy, courseId: TAMPER });
    expect(imp.status).to.equal(422);
    expect(imp.body.error.message).to.match(/not the one its publisher signed.*nothing was imported/);
    expect((await adminB.page(`/catalog/admin/course?id=${encodeURIComponent(TAMPER)}`)).status).to.equal(404);
    expect(readdirSync(path.join(B.dataDir, 'network', 'tmp'))).to.deep.equal([]);
    // Straight from A, the same course imports.
    tamper = 'none';
    expect((await adminB.post('/network/catalog/import', { peer: viaProxy, courseId: TAMPER })).status).to.equal(200);
  });

  it('a hub refuses an indicator set whose signature does not verify', async () => {
    // C's copy of A's set is kept as signed: changing a count breaks it for anyone re-verifying.
    const jws = await fetch(`${A.url}/network/indicators.json`).then((r) => r.json());
    const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString());
    payload.rows.push({ level: 'local', servants: 3, trained: 3 });
    tamper = 'none';
    const { flattenedVerify, importJWK } = await import('jose');
    const key = (await fetch(`${A.url}/.well-known/network-jwks.json`).then((r) => r.json())).keys[0];
    let refused = false;
    await flattenedVerify(
      { ...jws, payload: Buffer.from(JSON.stringify(payload)).toString('base64url') },
      await importJWK(key, 'EdDSA'),
    ).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
