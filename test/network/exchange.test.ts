/**
 * Three independent instances, each its own server process and database: A publishes a course,
 * B subscribes with A's pinned key and imports it in one click, and a learner in B takes it
 * through a third-party AU (plain fetch) up to B's progress and certificate; A publishes
 * version 2 and B is offered the update and imports it (the learner keeps version 1, asserted); a
 * tampered feed or package (through a proxy that changes bytes on the way) is refused with
 * nothing stored; hub C pulls A's and B's signed indicator sets and compares them by level of
 * government and role, with the unit of 3 never published; A also pushes its sets to C, which
 * refuses a tampered, forged, unknown or replayed push storing nothing; A's own dashboard shows
 * its country beside the region read from C, and with C down says the regional figure is unavailable.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FlattenedSign, generateKeyPair } from 'jose';
import { META, validZip } from '../catalog/fixtures/packages';
import { HEADER } from '../reports/fixtures';
import { freePort } from '../helpers';
import { ThirdPartyAu } from '../catalog/third-party-au';
import { ADMIN_PASSWORD, Browser, startInstance, type Instance } from './instances';

const COURSE = 'https://a.example/courses/gobierno-digital';
const TAMPER = 'https://a.example/courses/firma-electronica';
const LEARNER = { email: 'lucia@b.example', password: 'servidora publica 123' };

describe('network: three instances exchange courses and indicators', function () {
  this.timeout(600_000);
  let A: Instance, B: Instance, C: Instance;
  let adminA: Browser, adminB: Browser;
  let thumbA = '';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'network-exchange-'));
  let proxy: Server;
  let tamper: 'none' | 'feed' | 'package' | 'garbage' | 'huge' | 'resigned' | 'hugePackage' = 'none';
  let attacker: CryptoKey | undefined;

  let PORTS: Record<'A' | 'B' | 'C' | 'proxy' | 'dead', number>;

  before(async () => {
    // NETWORK_TEST_PORT_BASE keeps the instances in a given range (several runs on one machine).
    const base = Number(process.env.NETWORK_TEST_PORT_BASE) || 0;
    const port = async (i: number) => (base ? base + i : freePort());
    PORTS = { A: await port(0), B: await port(1), C: await port(2), proxy: await port(3), dead: await port(4) };
    const started = await Promise.allSettled([
      startInstance('a', PORTS.A, {
        NETWORK_COUNTRY: 'AAA',
        NETWORK_PUBLISHER: 'Escuela de Gobierno A',
        NETWORK_INDICATORS_INTERVAL: '2s',
        // A pushes its indicator sets to hub C (which takes them once its admin follows A), to B
        // (whose observatory holds A's and its own sets, as it follows A) and to a hub nobody runs.
        NETWORK_HUBS: [PORTS.C, PORTS.B, PORTS.dead].map((p) => `http://127.0.0.1:${p}`).join(','),
        // Its dashboard reads the region from C at every page (no kept answer) for the test.
        NETWORK_REGION_CACHE: '1ms',
      }),
      startInstance('b', PORTS.B, {
        NETWORK_COUNTRY: 'BBB',
        NETWORK_PUBLISHER: 'Instituto B',
        NETWORK_INDICATORS_INTERVAL: '2s',
        CATALOG_MAX_PACKAGE_MB: '1',
      }),
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
      if (req.url === '/network/feed.json') {
        if (tamper === 'garbage') body = Buffer.from('<html><body>Service unavailable</body></html>');
        if (tamper === 'huge') body = Buffer.from(JSON.stringify({ payload: 'A'.repeat(21 * 1024 * 1024), signature: 'x' }));
        if (tamper === 'resigned') {
          // A well-formed feed, signed by someone else's key under A's key id.
          const jws = JSON.parse(body.toString());
          const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString());
          attacker ??= (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey as CryptoKey;
          const forged = await new FlattenedSign(Buffer.from(jws.payload, 'base64url')).setProtectedHeader(header).sign(attacker);
          body = Buffer.from(JSON.stringify(forged));
        }
      }
      if (tamper === 'hugePackage' && req.url?.startsWith('/network/packages/')) body = Buffer.alloc(2 * 1024 * 1024, 7);
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

  /** Switches a signed-in browser's language and waits until its pages come in it. */
  async function speak(b: Browser, lang: string, p: string) {
    await b.request(`/lang/${lang}?next=${encodeURIComponent(p)}`);
    for (const t = Date.now(); !(await b.page(p)).text.includes(`<html lang="${lang}"`); await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() - t > 5_000) throw new Error(`${b.base}${p} does not come in ${lang}`);
  }

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

  it("A's admin page says how its last indicator push went at each hub: refused by C (which does not follow A yet), the dead hub not reached", async () => {
    const rowOf = (html: string, port: number) =>
      new RegExp(`<tr data-hub="http://127.0.0.1:${port}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
    let html = '';
    // A signs and pushes every 2 s (NETWORK_INDICATORS_INTERVAL): wait for a push to have been recorded.
    for (const t = Date.now(); !/Rechazado/.test(rowOf(html, PORTS.C)); await new Promise((r) => setTimeout(r, 250))) {
      html = (await adminA.page('/network/admin')).text;
      if (Date.now() - t > 20_000) throw new Error(`no push result on A's page in 20 s: ${rowOf(html, PORTS.C)}`);
    }
    const table = /<table id="hub-pushes">([\s\S]*?)<\/table>/.exec(html)![1];
    expect(table).to.match(/<caption>[^<]+<\/caption>/);
    expect(table).to.include('<th scope="col">Nodo</th>');
    expect(rowOf(html, PORTS.C))
      .to.include('Rechazado (HTTP 403)')
      .and.match(/follows no instance with the key/);
    expect(rowOf(html, PORTS.C)).to.match(/<time datetime="\d{4}-\d{2}-\d{2}T/);
    for (const t = Date.now(); !/Sin contacto/.test(rowOf(html, PORTS.dead)); await new Promise((r) => setTimeout(r, 250))) {
      html = (await adminA.page('/network/admin')).text;
      if (Date.now() - t > 40_000) throw new Error(`no result for the dead hub in 40 s: ${rowOf(html, PORTS.dead)}`);
    }
    expect(rowOf(html, PORTS.dead)).to.match(/fetch failed/);
    // In the reader's language: the same table in Portuguese and English.
    await speak(adminA, 'pt', '/network/admin');
    const pt = rowOf((await adminA.page('/network/admin')).text, PORTS.dead);
    expect(pt, pt).to.include('Sem contato');
    await speak(adminA, 'en', '/network/admin');
    const en = rowOf((await adminA.page('/network/admin')).text, PORTS.C);
    expect(en, en).to.include('Refused (HTTP 403)');
    await speak(adminA, 'es', '/network/admin');
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
    expect(r.body.push, 'B asked A to notify it').to.equal(true);

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

  it("a learner in B takes A's course through a third-party AU: progress and certificate, provenance on the course page", async () => {
    // B's admin opens the imported course to learners, puts it on the path of every servant and
    // creates the learner.
    await adminB.page(`/catalog/admin/course?id=${encodeURIComponent(COURSE)}`);
    expect((await adminB.post('/catalog/admin/course/publish', { id: COURSE, published: '1' })).status).to.equal(303);
    await adminB.page('/catalog/admin/paths');
    expect((await adminB.post('/catalog/admin/paths', { tier: 'all', courses: COURSE })).status).to.equal(200);
    await adminB.page('/accounts/admin/users');
    const created = await adminB.post('/accounts/admin/users', {
      ...LEARNER,
      name: 'Lucía Servidora',
      role: 'learner',
      tier: 'all',
      level: 'national',
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(303);

    const learner = await new Browser(B.url).signIn(LEARNER.email, LEARNER.password);
    const courseUrl = `/catalog/course?id=${encodeURIComponent(COURSE)}`;
    expect((await learner.page('/catalog/my-path')).text).to.contain('Gobierno digital');
    let page = await learner.page(courseUrl);
    expect(page.status).to.equal(200);
    expect(page.text).to.match(
      /id="course-provenance">Escuela de Gobierno A \(http:\/\/127\.0\.0\.1:\d+\), versión 1 de origen, licencia CC BY 4\.0/,
    );
    if (!/name="registration" value="/.test(page.text)) {
      expect((await learner.post('/catalog/enrol', { courseId: COURSE })).status).to.equal(303);
      page = await learner.page(courseUrl);
    }
    const registration = /name="registration" value="([^"]+)"/.exec(page.text)![1];
    const auId = /name="auId" value="([^"]+)"/.exec(page.text)![1];
    const launched = await learner.post('/catalog/launch', { registration, auId, launchMode: 'Normal' });
    expect(launched.status, JSON.stringify(launched.body)).to.equal(200);

    // The AU knows nothing but its launch URL: endpoint, fetch, actor, registration.
    const au = await new ThirdPartyAu(launched.body.url).start();
    expect(au.registration).to.equal(registration);
    for (const st of [
      au.statement('initialized'),
      au.statement('completed', { completion: true, duration: 'PT5M' }),
      au.statement('terminated', { duration: 'PT6M' }),
    ]) {
      const r = await au.send(st);
      expect(r.status, r.text).to.equal(204);
    }

    // Progress and certificates are updated from the outbox: wait for them, briefly.
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (const t = Date.now(); !(await ok()); await new Promise((r) => setTimeout(r, 100)))
        if (Date.now() - t > 15_000) throw new Error(`${what} did not happen in 15 s`);
    };
    await until('satisfied on the course page', async () => /id="course-status">Cumplido</.test((await learner.page(courseUrl)).text));
    await until('the certificate', async () => (await learner.page('/certificates/mine')).text.includes('Gobierno digital'));
    const mine = (await learner.page('/certificates/mine')).text;
    expect(mine.match(/<th scope="row">Gobierno digital<\/th>/g)).to.have.length(1);
  });

  it('A publishes version 2 and B is offered the update', async () => {
    await importAtA('v2.zip', COURSE, 'Gobierno digital, segunda edición');
    const page = await adminA.page('/network/admin');
    expect(page.text).to.contain('Publicar la versión 2');
    // No sync at B: A notifies its subscribers (B registered when it subscribed), and B pulls
    // and verifies A's feed before A's publish answers.
    await adminA.page('/network/admin');
    const r = await adminA.post('/network/admin/publish', { courseId: COURSE });
    expect(r.body.published.version).to.equal(2);
    expect(r.body.push).to.deep.equal({ notified: 1, failed: 0 });
    const offered = (await adminB.json('/network/catalog?q=segunda')).body.courses;
    expect(offered).to.have.length(1);
    expect(offered[0]).to.include({ version: 2, status: 'update' });
    expect((await adminB.page('/network/catalog')).text).to.contain('Actualizar a la versión 2');
    const imp = await adminB.post('/network/catalog/import', { peer: A.url, courseId: COURSE });
    expect(imp.body).to.include({ version: 2, alreadyInstalled: false });
    expect((await adminB.json('/network/catalog')).body.courses[0].status).to.equal('installed');
    // The learner who completed version 1 in B keeps it (her registration's version), still
    // satisfied; the course itself is now at version 2, what a new enrolment gets.
    const courseUrl = `/catalog/course?id=${encodeURIComponent(COURSE)}`;
    const shown = (html: string) => /<dt>Versión<\/dt><dd>(\d+)<\/dd>/.exec(html)?.[1];
    const learner = await new Browser(B.url).signIn(LEARNER.email, LEARNER.password);
    const hers = (await learner.page(courseUrl)).text;
    expect(shown(hers), 'the learner keeps version 1').to.equal('1');
    expect(hers).to.match(/id="course-status">Cumplido</);
    expect(shown((await adminB.page(courseUrl)).text), 'the course is at version 2').to.equal('2');
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
    // From the page's form, the refusal is said on the federated catalogue, in the page's language.
    const form = await adminB.request('/network/catalog/import', {
      method: 'POST',
      headers: { Accept: 'text/html', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: adminB.csrf, peer: viaProxy, courseId: TAMPER }).toString(),
    });
    expect(form.status).to.equal(422);
    const html = await form.text();
    expect(html).to.contain('El curso no se importó:');
    expect(html).to.contain('action="/network/catalog"');
    expect((await adminB.page(`/catalog/admin/course?id=${encodeURIComponent(TAMPER)}`)).status).to.equal(404);
    expect(readdirSync(path.join(B.dataDir, 'network', 'tmp'))).to.deep.equal([]);
    // Straight from A, the same course imports.
    tamper = 'none';
    expect((await adminB.post('/network/catalog/import', { peer: viaProxy, courseId: TAMPER })).status).to.equal(200);
  });

  it('a push notice carries nothing trusted: about an instance not followed, or to register a non-instance, it is refused', async () => {
    const post = (base: string, p: string, body: unknown) =>
      fetch(base + p, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
    const stranger = await post(B.url, '/network/notify', { peer: C.url });
    expect(stranger.status).to.equal(404);
    expect((await stranger.json()).error.message).to.match(/does not follow/);
    expect((await post(B.url, '/network/notify', { peer: 'http://192.0.2.1' })).status).to.equal(400);
    expect((await post(A.url, '/network/subscribers', { url: `http://127.0.0.1:${PORTS.proxy}/nothing` })).status).to.be.oneOf([422, 502]);
    const big = await post(A.url, '/network/subscribers', { url: 'x'.repeat(10_000) });
    expect(big.status).to.equal(413);
  });

  it('refuses malformed, oversized and wrongly signed feeds and an oversized package, keeping what it had', async () => {
    const OPEN = 'https://a.example/courses/datos-abiertos';
    await importAtA('o.zip', OPEN, 'Datos abiertos');
    await publishAtA(OPEN);
    const viaProxy = `http://127.0.0.1:${PORTS.proxy}`;
    await adminB.page('/network/admin');
    const kept = async () =>
      ((await adminB.json('/network/catalog')).body.courses as Array<{ peer: string; id: string; version: number }>)
        .filter((c) => c.peer === viaProxy)
        .map((c) => `${c.id} v${c.version}`)
        .sort();
    const before = await kept();
    expect(before).to.have.length(2); // the proxy's courses as last verified (without datos-abiertos)
    for (const [mode, error] of [
      ['garbage', /the feed \(.*\) is not JSON/],
      ['huge', /larger than 20971520 bytes/],
      ['resigned', /the feed: the signature does not verify with the pinned key/],
    ] as const) {
      tamper = mode;
      const r = await adminB.post('/network/admin/sync', {});
      expect(r.body, mode).to.deep.equal({ ok: 1, failed: 1 });
      const peer = (await adminB.page('/network/admin')).text;
      expect(peer, mode).to.match(error);
      expect(await kept(), mode).to.deep.equal(before);
    }
    // The feed verifies again: the new course appears; its package, too large, is refused.
    tamper = 'hugePackage';
    expect((await adminB.post('/network/admin/sync', {})).body).to.deep.equal({ ok: 2, failed: 0 });
    expect(await kept()).to.have.length(3);
    await adminB.page('/network/catalog');
    const imp = await adminB.post('/network/catalog/import', { peer: viaProxy, courseId: OPEN });
    expect(imp.status, JSON.stringify(imp.body)).to.equal(413);
    expect(imp.body.error.message).to.match(/the package is larger than 1048576 bytes/);
    expect((await adminB.page(`/catalog/admin/course?id=${encodeURIComponent(OPEN)}`)).status).to.equal(404);
    expect(readdirSync(path.join(B.dataDir, 'network', 'tmp'))).to.deep.equal([]);
    tamper = 'none';
  });

  it('hub C pulls the signed indicator sets of A and B and compares them by level and role, the unit of 3 never published', async () => {
    const ORG = [
      'code,name,parent,kind,level',
      'XX,País,,country,',
      'XX-NAT,Nacional,XX,level,national',
      'INST,Ministerio,XX-NAT,institution,',
      'U1,Unidad,INST,unit,',
    ];
    const row = (who: string, i: number, email: string, level: string, tier: string, dm: boolean) =>
      `${who}-${i},Persona ${who}${i},${email},U1,${level},${tier},Analista,${dm ? 'yes' : 'no'},yes`;
    const people = (who: string, n: number, level: string, tier: string, dm = false) =>
      Array.from({ length: n }, (_, i) =>
        row(`${who}${level}${tier}${dm}`, i, `${who}.${level}.${tier}.${dm}.${i}@${who}.example`, level, tier, dm),
      );
    const roster = {
      // A: a unit of 3 local decision-makers, which no published figure may reveal.
      A: [
        ...people('a', 30, 'national', 'all'),
        ...people('a', 12, 'national', 'all', true),
        ...people('a', 20, 'national', 'technical'),
        ...people('a', 10, 'national', 'technical', true),
        ...people('a', 6, 'regional', 'all'),
        ...people('a', 5, 'regional', 'all', true),
        ...people('a', 6, 'regional', 'technical'),
        ...people('a', 5, 'regional', 'technical', true),
        ...people('a', 7, 'local', 'all'),
        ...people('a', 3, 'local', 'all', true),
        ...people('a', 6, 'local', 'technical'),
        ...people('a', 5, 'local', 'technical', true),
      ],
      // B: the learner who completed A's course, and six colleagues.
      B: [
        row('b', 99, LEARNER.email, 'national', 'all', false),
        ...people('b', 6, 'national', 'all'),
        ...people('b', 5, 'regional', 'technical'),
      ],
    };
    for (const [admin, rows] of [
      [adminA, roster.A],
      [adminB, roster.B],
    ] as const) {
      await admin.page('/reports/org');
      const org = await admin.upload('/reports/org/import', {
        field: 'file',
        name: 'org.csv',
        data: Buffer.from(ORG.join('\n')),
        type: 'text/csv',
      });
      expect(org.status, JSON.stringify(org.body)).to.equal(200);
      await admin.page('/reports/roster');
      const up = await admin.upload(
        '/reports/roster',
        { field: 'file', name: 'roster.csv', data: Buffer.from([HEADER, ...rows].join('\n')), type: 'text/csv' },
        { institution: 'INST' },
      );
      expect(up.status, JSON.stringify(up.body)).to.equal(201);
      expect(up.body.errorCount, JSON.stringify(up.body.problems)).to.equal(0);
      const done = await admin.post(`/reports/roster/${up.body._id}/confirm`, {});
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
    }

    // C subscribes to both, each pinned by the fingerprint its admin reads on its own page.
    const thumb = async (b: Browser) => /id="own-thumbprint">([^<]+)</.exec((await b.page('/network/admin')).text)![1];
    const thumbB = await thumb(adminB);
    const adminC = await new Browser(C.url).signIn('admin@c.example', ADMIN_PASSWORD);
    await adminC.page('/network/admin');
    for (const [url, tp] of [
      [A.url, thumbA],
      [B.url, thumbB],
    ]) {
      const r = await adminC.post('/network/admin/peers', { url, thumbprint: tp });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.peer.lastError).to.equal(undefined);
    }
    // The sets are re-signed every 2 s (NETWORK_INDICATORS_INTERVAL): sync until both have the rosters.
    type Obs = {
      country: string;
      month: string;
      level: string;
      tier: string;
      decisionMakers: string;
      suppressed: boolean;
      servants: number | null;
      trained: number | null;
      share: number | null;
    };
    let obs: Obs[] = [];
    const pick = (c: string, level: string, tier: string, dm: string) =>
      obs.find((o) => o.country === c && o.level === level && o.tier === tier && o.decisionMakers === dm)!;
    const total = (c: string) =>
      obs.find((o) => o.country === c && o.level === '_T' && o.tier === '_T' && o.decisionMakers === '_T')?.servants;
    for (const t = Date.now(); ; await new Promise((r) => setTimeout(r, 250))) {
      expect((await adminC.post('/network/admin/sync', {})).body).to.deep.equal({ ok: 2, failed: 0 });
      const month = new Date().toISOString().slice(0, 7);
      obs = ((await adminC.json('/network/observatory/data.json')).body.observations as Obs[]).filter((o) => o.month === month);
      const trainedB = obs.find(
        (o) => o.country === 'BBB' && o.level === 'national' && o.tier === 'all' && o.decisionMakers === 'no',
      )?.trained;
      if (total('AAA') === 115 && total('BBB') === 12 && trainedB === 1) break;
      if (Date.now() - t > 20_000)
        throw new Error(`the hub did not get both rosters in 20 s: ${JSON.stringify(obs.filter((o) => o.level === '_T'))}`);
    }
    // Comparable figures by level of government and role, on the public page and in the exports.
    expect(pick('AAA', 'national', 'all', 'no')).to.include({ servants: 30, trained: 0, share: 0, suppressed: false });
    expect(pick('BBB', 'national', 'all', 'no')).to.include({ servants: 7, trained: 1, share: 0.1429, suppressed: false });
    expect(pick('AAA', 'local', '_T', '_T')).to.include({ servants: 21, suppressed: false });
    expect(pick('AAA', '_T', 'all', 'yes')).to.include({ servants: 20, suppressed: false });
    expect(pick('BBB', 'regional', 'technical', 'no')).to.include({ servants: 5, suppressed: false });
    // The unit of 3 is hidden with the least that protects it (a 2 × 2 × 2 block of cells), and
    // nothing published gives it back: no figure below k, and no equation with one hidden term.
    expect(pick('AAA', 'local', 'all', 'yes')).to.include({ suppressed: true, servants: null, trained: null });
    const a = obs.filter((o) => o.country === 'AAA');
    expect(a.filter((o) => o.suppressed)).to.have.length(8);
    expect(a.filter((o) => !o.suppressed && o.servants !== null && o.servants < 5)).to.deep.equal([]);
    const dims = ['level', 'tier', 'decisionMakers'] as const;
    for (const whole of a)
      for (const d of dims) {
        if (whole[d] !== '_T') continue;
        const parts = a.filter((o) => o[d] !== '_T' && dims.every((e) => e === d || o[e] === whole[e]));
        expect(
          [whole, ...parts].filter((o) => o.suppressed).length,
          `${whole.level}|${whole.tier}|${whole.decisionMakers} by ${d}`,
        ).to.not.equal(1);
      }

    const html = await fetch(`${C.url}/network/observatory?level=national&tier=all&dm=no`).then((r) => r.text());
    expect(html).to.contain('AAA').and.to.contain('BBB');
    expect(html).to.contain('14,3');
    // The region: both countries' national servants without decision-makers, 30 + 7, 1 trained.
    const region = /<tr id="region">([\s\S]*?)<\/tr>/.exec(html)![1];
    expect(region).to.contain('Región (2 de 2 países)').and.contain('>37<').and.contain('>1<').and.contain('2,7 %');
    // B's own observatory shows its country beside the region.
    const atB = await fetch(`${B.url}/network/observatory?level=national&tier=all&dm=no`).then((r) => r.text());
    expect(atB).to.match(/<tr data-country="BBB" data-own="true">\s*<th scope="row">BBB · Instituto B \(su país\)/);
    const sdmx = await fetch(`${C.url}/network/observatory/data.sdmx.csv`).then((r) => r.text());
    const line = (c: string, level: string, tier: string, dm: string, measure: string) =>
      sdmx.split(/\r?\n/).find((l) => l.includes(`,${c},${new Date().toISOString().slice(0, 7)},${level},${tier},${dm},${measure},`));
    expect(line('BBB', 'national', 'all', 'N', 'TRAINED')).to.match(/,1,PERSONS,A,F$/);
    expect(line('AAA', 'local', 'all', 'Y', 'SERVANTS')).to.match(/,,PERSONS,A,C$/);
    expect(sdmx).to.not.match(/,SERVANTS,3,/);
  });

  it('A pushes its signed indicator set to hub C; tampered, forged, unknown and replayed pushes reach C and are refused, nothing stored', async () => {
    const push = (body: unknown) =>
      fetch(`${C.url}/network/indicators`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    type SetInfo = { country: string; publisher: string; generatedAt: string; via?: string };
    type ObsInfo = { country: string; level: string; tier: string; decisionMakers: string; servants: number | null; suppressed: boolean };
    const atC = async () => {
      const data = await fetch(`${C.url}/network/observatory/data.json`).then((r) => r.json());
      return {
        set: (data.countries as SetInfo[]).find((c) => c.country === 'AAA')!,
        obs: (data.observations as ObsInfo[]).filter((o) => o.country === 'AAA'),
      };
    };
    // A re-signs every 2 s and pushes each set to C (NETWORK_HUBS): C has it as pushed, no sync.
    for (const t = Date.now(); (await atC()).set.via !== 'push'; await new Promise((r) => setTimeout(r, 250)))
      if (Date.now() - t > 20_000) throw new Error(`A's push did not reach C in 20 s: ${JSON.stringify((await atC()).set)}`);

    const jws = await fetch(`${A.url}/network/indicators.json`).then((r) => r.json());
    const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString());
    const forgedPayload = {
      ...payload,
      generatedAt: '2099-01-01T00:00:00.000Z',
      publisher: { ...payload.publisher, publisher: 'Falsificado' },
      rows: [...payload.rows, { level: 'local', tier: 'all', dm: 'yes', servants: 3, trained: payload.months.map(() => 3) }],
    };
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    const refused = async (body: unknown, status: number, message: RegExp) => {
      const r = await push(body);
      expect(r.status, JSON.stringify(body).slice(0, 200)).to.equal(status);
      expect((await r.json()).error.message).to.match(message);
    };
    // A changed count under A's signature.
    await refused({ ...jws, payload: b64(forgedPayload) }, 422, /signature does not verify with the pinned key/);
    // Signed by someone else under A's key id, and under the attacker's own key id.
    attacker ??= (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey as CryptoKey;
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString());
    const forged = await new FlattenedSign(Buffer.from(JSON.stringify(forgedPayload))).setProtectedHeader(header).sign(attacker);
    await refused(forged, 422, /signature does not verify with the pinned key/);
    const stranger = await new FlattenedSign(Buffer.from(JSON.stringify(forgedPayload)))
      .setProtectedHeader({ ...header, kid: 'x'.repeat(43) })
      .sign(attacker);
    await refused(stranger, 403, /follows no instance with the key/);
    // Not a signed set at all.
    await refused({ rows: [] }, 400, /flattened JWS/);
    await refused('{"payload": ', 400, /./);
    // A's genuine set replayed after A signed a newer one: refused, figures are not rolled back.
    for (
      const t = Date.now();
      new Date((await atC()).set.generatedAt) <= new Date(payload.generatedAt);
      await new Promise((r) => setTimeout(r, 250))
    )
      if (Date.now() - t > 20_000) throw new Error('A signed no newer set in 20 s');
    await refused(jws, 409, /already has a newer set of AAA/);

    const after = await atC();
    expect(after.set.publisher).to.equal('Escuela de Gobierno A');
    expect(new Date(after.set.generatedAt).getUTCFullYear()).to.be.below(2099);
    expect(after.obs.filter((o) => o.servants === 3)).to.deep.equal([]);
    expect(after.obs.find((o) => o.level === 'local' && o.tier === 'all' && o.decisionMakers === 'yes')!.suppressed).to.equal(true);
  });

  it("A's dashboard sets its country beside the region merged from hubs C and B, by level, tier and decision-makers; a hub down hides no other's figures", async () => {
    type Obs = { country: string; month: string; level: string; tier: string; decisionMakers: string; servants: number; trained: number };
    const data = await fetch(`${C.url}/network/observatory/data.json`).then((r) => r.json());
    const latest = (c: string, level = '_T', tier = '_T', dm = '_T') =>
      (data.observations as Obs[])
        .filter((o) => o.country === c && o.level === level && o.tier === tier && o.decisionMakers === dm)
        .sort((x, y) => x.month.localeCompare(y.month))
        .pop()!;
    const [a, b] = [latest('AAA'), latest('BBB')];
    expect(a.servants).to.equal(115);
    const month = [a.month, b.month].sort().pop();
    const table = (html: string) => /<section aria-labelledby="region-h">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    const cells = (html: string) => [...html.matchAll(/<t[hd][^>]*>([^<]*)<\/t[hd]>/g)].map((m) => m[1]);
    // The cells of the row headed `label`: own servants, trained, share, then the region's.
    const rowCells = (html: string, label: string) => {
      const row = [...html.matchAll(/<tr>\s*<th scope="row">([^<]*)<\/th>([\s\S]*?)<\/tr>/g)].find((m) => m[1] === label);
      return row ? cells(row[2]) : [];
    };
    const share = (t: number, n: number) => `${((t / n) * 100).toFixed(1)}%`;
    // A group summed over the countries that publish it (a confidential one adds nothing).
    const both = (level = '_T', tier = '_T', dm = '_T') => {
      const xs = ['AAA', 'BBB'].map((c) => latest(c, level, tier, dm)).filter((o) => o && o.servants !== null);
      return { servants: xs.reduce((n, o) => n + o.servants, 0), trained: xs.reduce((n, o) => n + o.trained, 0) };
    };

    await speak(adminA, 'en', '/reports');
    const page = await adminA.page('/reports');
    expect(page.status).to.equal(200);
    const up = table(page.text);
    expect(up).to.match(/<caption>[^<]+<\/caption>/);
    expect(up).to.include('<th scope="colgroup" colspan="3">Your country (today)</th>');
    expect(up).to.include('<th scope="rowgroup" colspan="8">By level of government</th>');
    // A is held by C and by B: it counts once ("2 of 2"), its newest set.
    const whole = both();
    expect(rowCells(up, 'Whole programme')).to.deep.equal([
      '115',
      String(a.trained),
      share(a.trained, 115),
      String(whole.servants),
      String(whole.trained),
      share(whole.trained, whole.servants),
      `2 of 2 countries, ${month}`,
    ]);
    // By level: A's live national servants (30 + 12 + 20 + 10) beside A's and B's national figures.
    const national = both('national');
    expect(rowCells(up, 'National').slice(0, 1)).to.deep.equal(['72']);
    expect(rowCells(up, 'National').slice(3, 5)).to.deep.equal([String(national.servants), String(national.trained)]);
    // Local exists only in A: one country in the sum.
    expect(rowCells(up, 'Local / municipal').slice(3)).to.deep.equal([
      String(latest('AAA', 'local').servants),
      String(latest('AAA', 'local').trained),
      share(latest('AAA', 'local').trained, latest('AAA', 'local').servants),
      `1 of 2 countries, ${a.month}`,
    ]);
    const dm = both('_T', '_T', 'yes');
    expect(rowCells(up, 'Decision-makers').slice(0, 1)).to.deep.equal(['40']);
    expect(rowCells(up, 'Decision-makers').slice(3, 5)).to.deep.equal([String(dm.servants), String(dm.trained)]);
    expect(rowCells(up, 'Technical / professional').slice(3, 4)).to.deep.equal([String(both('_T', 'technical').servants)]);
    expect(up).to.include(`hubs http://127.0.0.1:${PORTS.C}, http://127.0.0.1:${PORTS.B}`);
    expect(up).to.include(`Did not answer: http://127.0.0.1:${PORTS.dead}.`);

    // A unit's dashboard: the unit's groups beside the region's (countries publish no units).
    const unit = table((await adminA.page('/reports?unit=U1')).text);
    expect(unit).to.include('<th scope="colgroup" colspan="3">Unidad (today)</th>');
    expect(rowCells(unit, 'National').slice(0, 1)).to.deep.equal(['72']);
    expect(unit).to.include('countries publish no figures per unit');

    // C stops: B still answers, with its own set and A's (twice: followed directly and through the
    // proxy, the pushed one newest) — the region stays whole, A counted once at its newest.
    await C.stop();
    await speak(adminA, 'es', '/reports');
    const down = await adminA.page('/reports');
    expect(down.status).to.equal(200);
    const t = table(down.text);
    expect(rowCells(t, 'Todo el programa').slice(0, 1)).to.deep.equal(['115']);
    expect(rowCells(t, 'Todo el programa').slice(3, 4)).to.deep.equal([String(whole.servants)]);
    expect(rowCells(t, 'Todo el programa')[6]).to.match(/^2 de 2 países, /);
    expect(t).to.include(`No respondieron: http://127.0.0.1:${PORTS.C}, http://127.0.0.1:${PORTS.dead}.`);
    expect(t).to.include(`del nodo http://127.0.0.1:${PORTS.B}`);

    // B stops too: no hub answers; the dashboard renders and says the figure is unavailable.
    await B.stop();
    const none = await adminA.page('/reports');
    expect(none.status).to.equal(200);
    expect(none.text).to.include('id="fig-h"');
    const n = table(none.text);
    expect(n).to.include('Su país (hoy)');
    expect(n).to.include('La cifra regional no está disponible');
    expect(cells(n)).to.include('115');
  });
});
