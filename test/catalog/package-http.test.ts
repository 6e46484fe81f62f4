import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { csrfFrom, makeUser, signIn, testApp, binaryParser } from '../helpers';
import { COURSE, courseXml, META, validZip, writeZip } from './fixtures/packages';

describe('catalog: package admin pages and AU content over HTTP', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let admin: TestAgent;
  let learner: TestAgent;
  let dir: string;

  const counts = async () => {
    const db = lms.db.db!;
    const n = (c: string) => db.collection(c).countDocuments({});
    return [
      await n('catalog_courses'),
      await n('catalog_course_versions'),
      await n('catalog_packages.files'),
      await n('catalog_packages.chunks'),
    ];
  };
  const token = async (agent: TestAgent) => csrfFrom((await agent.get('/catalog/admin/courses').expect(200)).text);
  const upload = (agent: TestAgent, file: string, csrf?: string) => {
    const req = agent.post('/catalog/admin/courses');
    if (csrf !== undefined) req.field('_csrf', csrf);
    return req.attach('package', file);
  };

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin] });
    const a = await makeUser(lms, { role: 'admin' });
    const l = await makeUser(lms, { role: 'learner' });
    admin = await signIn(lms, a.email, a.password);
    learner = await signIn(lms, l.email, l.password);
    dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-http-'));
  });
  after(async () => {
    await lms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a package from the admin page, then shows its versions, structure and metadata', async () => {
    const zip = await validZip(
      dir,
      'up.zip',
      { id: `${COURSE}/http`, meta: META, aus: [{ url: 'index.html', moveOn: 'Passed', masteryScore: '0.8' }] },
      [{ name: 'app.js', data: 'console.log(1)' }],
    );
    const res = await upload(admin, zip, await token(admin)).expect(303);
    expect(res.headers.location).to.equal(`/catalog/admin/course?id=${encodeURIComponent(`${COURSE}/http`)}&imported=1`);
    const page = await admin.get(res.headers.location).expect(200);
    expect(page.text).to.include('Paquete importado como versión 1.');
    expect(page.text).to.include(`${COURSE}/http`);
    expect(page.text).to.match(/<caption>Versiones importadas/);
    expect(page.text).to.include('nota mínima 0.8');
    const list = await admin.get('/catalog/admin/courses').expect(200);
    expect(list.text).to.include('Firma digital');
    expect(list.text).to.include('Sin publicar');

    // The same file again changes nothing.
    const again = await upload(admin, zip, await token(admin)).expect(303);
    expect(again.headers.location).to.match(/same=1$/);

    // JSON clients get the result as JSON.
    const v2 = await validZip(dir, 'up2.zip', { id: `${COURSE}/http`, meta: META, aus: [{ url: 'index.html' }, { url: 'b.html' }] }, [
      { name: 'app.js', data: 'console.log(2)' },
    ]);
    const json = await upload(admin, v2, await token(admin))
      .set('Accept', 'application/json')
      .expect(201);
    expect(json.body).to.deep.equal({ courseId: `${COURSE}/http`, version: 2, auCount: 2, alreadyInstalled: false });
  });

  it('rejects an invalid package with a 4xx page naming the rule and the place, storing nothing', async () => {
    const before = await counts();
    const bad = await writeZip(path.join(dir, 'bad.zip'), [
      { name: 'cmi5.xml', data: courseXml({ id: `${COURSE}/bad`, aus: [{ url: 'missing.html' }] }) },
    ]);
    const res = await upload(admin, bad, await token(admin)).expect(422);
    expect(res.text).to.include('El paquete no se importó');
    // The page is in the person's language (Spanish by default); the rule keeps the name cmi5 gives it.
    expect(res.text).to.include('cmi5 §14.1: la url «missing.html» remite a «missing.html», que no está en el zip');
    expect(res.text).not.to.include('which is not in the zip');
    await admin.get('/lang/pt');
    const pt = await upload(admin, bad, await token(admin)).expect(422);
    await admin.get('/lang/es');
    expect(pt.text).to.include(
      'O pacote não foi importado: cmi5 §14.1: a url «missing.html» se refere a «missing.html», que não está no zip',
    );
    const json = await upload(admin, bad, await token(admin))
      .set('Accept', 'application/json')
      .expect(422);
    expect(json.body.error.message).to.match(/cmi5 §14\.1: url "missing\.html" refers to "missing\.html", which is not in the zip/);
    const none = await admin
      .post('/catalog/admin/courses')
      .field('_csrf', await token(admin))
      .expect(400);
    expect(none.text).to.include('Elija un paquete');
    expect(await counts()).to.deep.equal(before);
  });

  it('stops an upload over CATALOG_MAX_PACKAGE_MB while receiving it (413), storing nothing', async () => {
    const small = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { CATALOG_MAX_PACKAGE_MB: '0.01' } });
    try {
      const a = await makeUser(small, { role: 'admin' });
      const agent = await signIn(small, a.email, a.password);
      const zip = await validZip(dir, 'large.zip', { id: `${COURSE}/large` }, [
        { name: 'media.bin', data: randomBytes(64 * 1024), compress: false },
      ]);
      const res = await upload(agent, zip, await token(agent)).expect(413);
      expect(res.text).to.include('CATALOG_MAX_PACKAGE_MB');
      expect(await small.db.db!.collection('catalog_courses').countDocuments({})).to.equal(0);
      expect(await small.db.db!.collection('catalog_packages.files').countDocuments({})).to.equal(0);
    } finally {
      await small.close();
    }
  });

  it('requires the CSRF token and the catalog:manage permission for uploads', async () => {
    const before = await counts();
    const zip = await validZip(dir, 'csrf.zip', { id: `${COURSE}/csrf` });
    await upload(admin, zip).expect(403);
    await upload(admin, zip, 'not-the-token').expect(403);
    await upload(learner, zip, 'x').expect(403);
    await upload(supertest.agent(lms.app), zip, 'x').set('Accept', 'application/json').expect(401);
    await learner.get('/catalog/admin/courses').expect(403);
    expect(await counts()).to.deep.equal(before);
  });

  it('publishes, unpublishes and saves metadata, with a field error for bad input', async () => {
    const id = `${COURSE}/http`;
    const t = csrfFrom((await admin.get(`/catalog/admin/course?id=${encodeURIComponent(id)}`).expect(200)).text);
    await admin.post('/catalog/admin/course/publish').type('form').send({ _csrf: t, id, published: '1' }).expect(303);
    expect((await lms.services.get('catalog.courses').getCourse(id))!.published).to.equal(true);
    const saved = await admin
      .post('/catalog/admin/course/meta')
      .type('form')
      .send({ _csrf: t, id, tiers: ['manager', 'decision-maker'], levels: ['local'], topics: 'datos seguridad', hours: '4.5' })
      .expect(200);
    expect(saved.text).to.include('Cambios guardados.');
    const c = (await lms.services.get('catalog.courses').getCourse(id))!;
    expect(c).to.include({ hours: 4.5 });
    expect(c.tiers).to.deep.equal(['manager', 'decision-maker']);
    expect(c.topics).to.deep.equal(['datos', 'seguridad']);
    const bad = await admin
      .post('/catalog/admin/course/meta')
      .type('form')
      .send({ _csrf: t, id, levels: ['planetary'], hours: '2' })
      .expect(400);
    expect(bad.text).to.match(/levels\.0/);
    await admin.post('/catalog/admin/course/publish').type('form').send({ _csrf: t, id, published: '0' }).expect(303);
    expect((await lms.services.get('catalog.courses').getCourse(id))!.published).to.equal(false);
    await admin
      .post('/catalog/admin/course/publish')
      .type('form')
      .send({ _csrf: t, id: `${COURSE}/nope`, published: '1' })
      .expect(404);
  });

  describe('AU content', () => {
    let base: string;
    before(async () => {
      const svc = lms.services.get('catalog.courses');
      const v = (await svc.getVersion(`${COURSE}/http`, 2))!;
      base = `/catalog/content/${v.packageId}`;
      expect(svc.contentUrl(v, 'index.html')).to.equal(`http://127.0.0.1/catalog/content/${v.packageId}/index.html`);
    });

    it('serves package files sandboxed, without same-origin, readable cross-origin, and framable by the LMS', async () => {
      const res = await supertest(lms.app).get(`${base}/index.html`).expect(200);
      expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).to.equal(
        "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; frame-ancestors 'self' http://127.0.0.1",
      );
      expect(res.headers['content-security-policy']).to.not.include('allow-same-origin');
      expect(res.headers['access-control-allow-origin']).to.equal('*');
      expect(res.headers['cross-origin-resource-policy']).to.equal('cross-origin');
      expect(res.headers).to.not.have.property('x-frame-options');
      expect(res.headers['cache-control']).to.include('immutable');
      expect(res.text).to.include('<title>index.html</title>');
      const js = await supertest(lms.app).get(`${base}/app.js`).expect(200);
      expect(js.headers['content-type']).to.match(/^application\/javascript|^text\/javascript/);
    });

    it('answers conditional and range requests', async () => {
      const first = await supertest(lms.app).get(`${base}/cmi5.xml`).expect(200);
      const etag = first.headers.etag;
      expect(etag).to.match(/^"[a-f0-9]{32}"$/);
      await supertest(lms.app).get(`${base}/cmi5.xml`).set('If-None-Match', etag).expect(304);
      const part = await supertest(lms.app).get(`${base}/cmi5.xml`).set('Range', 'bytes=0-4').buffer(true).parse(binaryParser).expect(206);
      expect(part.headers['content-range']).to.equal(`bytes 0-4/${Buffer.byteLength(first.text)}`);
      expect((part.body as Buffer).toString()).to.equal('<?xml');
      await supertest(lms.app).get(`${base}/cmi5.xml`).set('Range', 'bytes=999999-').expect(416);
    });

    it('returns 404 for unknown files, packages and path tricks', async () => {
      await supertest(lms.app).get(`${base}/nope.html`).expect(404);
      await supertest(lms.app).get('/catalog/content/0123456789abcdef01234567/index.html').expect(404);
      await supertest(lms.app).get('/catalog/content/../../etc/passwd').expect(404);
      await supertest(lms.app).get(`${base}/%2e%2e/%2e%2e/cmi5.xml`).expect(404);
    });

    it('with CONTENT_ORIGIN, serves package files only from that origin', async () => {
      const other = await testApp({
        plugins: [accountsPlugin, lrsPlugin, catalogPlugin],
        env: { CONTENT_ORIGIN: 'http://content.example:8080' },
      });
      try {
        const svc = other.services.get('catalog.courses');
        const r = await svc.importPackage({ filePath: await validZip(dir, 'origin.zip', { id: `${COURSE}/origin` }) });
        const v = (await svc.getVersion(r.courseId, 1))!;
        expect(svc.contentUrl(v, 'index.html')).to.equal(`http://content.example:8080/catalog/content/${v.packageId}/index.html`);
        const moved = await supertest(other.app).get(`/catalog/content/${v.packageId}/index.html`).expect(308);
        expect(moved.headers.location).to.equal(`http://content.example:8080/catalog/content/${v.packageId}/index.html`);
        const served = await supertest(other.app)
          .get(`/catalog/content/${v.packageId}/index.html`)
          .set('Host', 'content.example:8080')
          .expect(200);
        expect(served.headers['content-security-policy']).to.match(/^sandbox /);
      } finally {
        await other.close();
      }
    });
  });
});
