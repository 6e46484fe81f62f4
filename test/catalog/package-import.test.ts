import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { mongo } from 'mongoose';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import { createI18n } from '../../server/core/i18n';
import { PackageError } from '../../server/plugins/catalog/package/package-error';
import { CoursesService } from '../../server/plugins/catalog/courses.service';
import { packageSettings } from '../../server/plugins/catalog/package/settings';
import { testApp } from '../helpers';
import { COURSE, courseXml, META, manyAus, validZip, writeZip, type CourseSpec } from './fixtures/packages';

describe('catalog: cmi5 package import', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let svc: CoursesService;
  let dir: string;

  const service = (env: Record<string, string> = {}) => {
    const s = new CoursesService(lms.db, packageSettings(env), 'http://lms.example');
    return s;
  };
  const counts = async () => {
    const db = lms.db.db!;
    const n = (c: string) => db.collection(c).countDocuments({});
    return {
      courses: await n('catalog_courses'),
      versions: await n('catalog_course_versions'),
      files: await n('catalog_packages.files'),
      chunks: await n('catalog_packages.chunks'),
    };
  };
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  /** Imports, expects a rejection with `status` and a message matching `pattern`, and that nothing changed. */
  const rejects = async (filePath: string, status: number, pattern: RegExp, s = svc) => {
    const before = await counts();
    let err: unknown;
    try {
      await s.importPackage({ filePath, originalName: path.basename(filePath) });
    } catch (e) {
      err = e;
    }
    expect(err, 'import should fail').to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(status);
    expect((err as HttpError).message).to.match(pattern);
    expect(await counts()).to.deep.equal(before);
    return err as HttpError;
  };
  const writeLatin1 = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, Buffer.from(text, 'latin1'));
    return f;
  };
  const zipOf = (name: string, spec: CourseSpec, extra: Parameters<typeof validZip>[3] = []) => validZip(dir, name, spec, extra);

  before(async () => {
    lms = await testApp();
    svc = service();
    await svc.init();
    dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-fixtures-'));
  });
  after(async () => {
    await lms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('valid packages', () => {
    it('imports a zip: course with its metadata, version 1, files stored and served from the package', async () => {
      const zip = await zipOf(
        'meta.zip',
        {
          id: `${COURSE}/meta`,
          meta: META,
          aus: [{ url: 'index.html?lang=es#start', moveOn: 'CompletedAndPassed', masteryScore: '0.75', launchMethod: 'OwnWindow' }],
        },
        [{ name: 'media/logo.svg', data: '<svg xmlns="http://www.w3.org/2000/svg"/>' }],
      );
      const r = await svc.importPackage({ filePath: zip, originalName: 'meta.zip', importedBy: 'admin-1' });
      expect(r).to.deep.equal({ courseId: `${COURSE}/meta`, version: 1, auCount: 1, alreadyInstalled: false });
      const course = (await svc.getCourse(`${COURSE}/meta`))!;
      expect(course.title).to.deep.equal([
        { lang: 'es', text: 'Firma digital' },
        { lang: 'en', text: 'Firma digital (en)' },
      ]);
      expect(course).to.include({ hours: 3, published: false, currentVersion: 1, license: 'CC BY-SA 4.0' });
      expect(course.tiers).to.deep.equal(['all', 'technical']);
      expect(course.levels).to.deep.equal(['national', 'regional', 'local']);
      expect(course.topics).to.deep.equal(['e-government', 'rights']);
      expect(course.languages).to.deep.equal(['es', 'pt', 'en']);
      expect(course.credits).to.deep.equal(['Carta Iberoamericana de Gobierno Electrónico (CLAD, 2007)', 'eLAC2010']);
      const v = (await svc.getVersion(`${COURSE}/meta`, 1))!;
      expect(v).to.include({ source: 'zip', auCount: 1, importedBy: 'admin-1', version: 1 });
      expect(v.sha256).to.match(/^[a-f0-9]{64}$/);
      expect(v.structure).to.deep.equal([
        {
          type: 'au',
          id: `${COURSE}/au/1`,
          title: [
            { lang: 'es', text: 'Unidad 1' },
            { lang: 'en', text: 'Unidad 1 (en)' },
          ],
          description: [
            { lang: 'es', text: 'Descripción 1' },
            { lang: 'en', text: 'Descripción 1 (en)' },
          ],
          url: 'index.html?lang=es#start',
          launchMethod: 'OwnWindow',
          moveOn: 'CompletedAndPassed',
          masteryScore: 0.75,
        },
      ]);
      expect(await svc.store.count(v.packageId)).to.equal(3);
      expect(svc.contentUrl(v, 'index.html?lang=es#start')).to.equal(
        `http://lms.example/catalog/content/${v.packageId}/index.html?lang=es#start`,
      );
      const logo = (await svc.openContent(v.packageId, 'media/logo.svg'))!;
      expect(logo.file.contentType).to.equal('image/svg+xml');
      const chunks: Buffer[] = [];
      for await (const c of logo.body()) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).to.equal('<svg xmlns="http://www.w3.org/2000/svg"/>');
      expect(await svc.openContent(v.packageId, 'nope.html')).to.equal(null);
    });

    it('imports a standalone cmi5.xml whose AUs have fully qualified URLs (§14.2), blocks and objectives', async () => {
      const xml = courseXml({
        id: `${COURSE}/xml`,
        objectives: [`${COURSE}/obj/1`],
        blockId: `${COURSE}/block/1`,
        aus: [
          { url: 'https://content.example.org/au1/index.html?mode=full', objectives: [`${COURSE}/obj/1`], launchParameters: 'Start=1' },
          { url: 'https://content.example.org/au2/', moveOn: 'Passed', masteryScore: '1' },
        ],
      });
      const r = await svc.importPackage({ filePath: file('cmi5.xml', xml), originalName: 'cmi5.xml' });
      expect(r).to.include({ courseId: `${COURSE}/xml`, version: 1, auCount: 2 });
      const v = (await svc.getVersion(`${COURSE}/xml`, 1))!;
      expect(v.source).to.equal('xml');
      expect(v.structure).to.have.length(1);
      const block = v.structure[0];
      expect(block).to.include({ type: 'block', id: `${COURSE}/block/1` });
      if (block.type !== 'block') throw new Error('expected a block');
      expect(block.children.map((c) => c.id)).to.deep.equal([`${COURSE}/au/1`, `${COURSE}/au/2`]);
      expect(block.children[0]).to.include({ launchParameters: 'Start=1', moveOn: 'NotApplicable', launchMethod: 'AnyWindow' });
      expect(block.children[1]).to.include({ masteryScore: 1, moveOn: 'Passed' });
      expect(svc.contentUrl(v, 'https://content.example.org/au2/')).to.equal('https://content.example.org/au2/');
      const course = (await svc.getCourse(`${COURSE}/xml`))!;
      expect(course).to.include({ hours: 0 });
      expect(course.tiers).to.deep.equal([]);
    });

    it('re-imports: the same file is "already installed"; a changed one becomes version 2 and version 1 stays', async () => {
      const id = `${COURSE}/versions`;
      const v1 = await zipOf('v1.zip', { id });
      expect((await svc.importPackage({ filePath: v1 })).version).to.equal(1);
      await svc.updateMeta(id, { tiers: ['manager'], levels: ['local'], topics: ['security'], hours: 2 });
      await svc.setPublished(id, true);
      const before = await counts();
      expect(await svc.importPackage({ filePath: v1 })).to.deep.equal({ courseId: id, version: 1, auCount: 1, alreadyInstalled: true });
      expect(await counts()).to.deep.equal(before);

      const v2 = await zipOf('v2.zip', { id, title: 'Firma digital 2', aus: [{ url: 'index.html' }, { url: 'two.html' }] });
      expect(await svc.importPackage({ filePath: v2 })).to.deep.equal({ courseId: id, version: 2, auCount: 2, alreadyInstalled: false });
      const course = (await svc.getCourse(id))!;
      expect(course).to.include({ currentVersion: 2, published: true, hours: 2 });
      expect(course.title[0].text).to.equal('Firma digital 2');
      expect(course.tiers).to.deep.equal(['manager']); // no metadata in the package: the admin's stays
      const old = (await svc.getVersion(id, 1))!;
      expect(old.auCount).to.equal(1);
      expect(await svc.openContent(old.packageId, 'index.html')).to.not.equal(null);
      expect((await svc.listVersions(id)).map((v) => v.version)).to.deep.equal([2, 1]);
    });

    it('reads a cmi5.xml declared in another encoding (ISO-8859-1) and trims whitespace (§13.1)', async () => {
      const xml = courseXml({
        id: `${COURSE}/latin1`,
        title: '  Administración pública  ',
        aus: [{ url: '  https://x.example/ñandú  ' }],
      }).replace('encoding="utf-8"', 'encoding="ISO-8859-1"');
      const r = await svc.importPackage({ filePath: writeLatin1('latin1.xml', xml) });
      const course = (await svc.getCourse(r.courseId))!;
      expect(course.title[0].text).to.equal('Administración pública');
      const v = (await svc.getVersion(r.courseId, 1))!;
      expect(v.structure[0]).to.include({ url: 'https://x.example/ñandú' });
    });

    it('imports a 1,000-AU course structure', async () => {
      const zip = await zipOf('big.zip', { id: `${COURSE}/big`, aus: manyAus(1000) });
      const r = await svc.importPackage({ filePath: zip });
      expect(r).to.include({ version: 1, auCount: 1000 });
      const v = (await svc.getVersion(`${COURSE}/big`, 1))!;
      expect(v.structure).to.have.length(1000);
      expect(v.structure[999]).to.include({ url: 'au999/index.html', moveOn: 'Passed', masteryScore: 0.8 });
      expect(await svc.store.count(v.packageId)).to.equal(1001);
    });

    it('imports a zip64 archive, including a file larger than one storage chunk', async () => {
      const big = Buffer.alloc(600 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
      const zip = await writeZip(
        path.join(dir, 'zip64.zip'),
        [
          { name: 'cmi5.xml', data: courseXml({ id: `${COURSE}/zip64`, aus: [{ url: 'player/index.html' }] }) },
          { name: 'player/', data: Buffer.alloc(0) },
          { name: 'player/index.html', data: '<!doctype html><title>p</title>' },
          { name: 'player/video.bin', data: big, compress: false },
        ],
        { zip64: true },
      );
      const r = await svc.importPackage({ filePath: zip });
      const v = (await svc.getVersion(r.courseId, 1))!;
      const got = (await svc.openContent(v.packageId, 'player/video.bin'))!;
      expect(got.file.size).to.equal(big.length);
      const parts: Buffer[] = [];
      for await (const c of got.body()) parts.push(c as Buffer);
      expect(Buffer.concat(parts).equals(big)).to.equal(true);
      // The layout is GridFS's: the driver's own GridFSBucket (and so mongofiles) reads the same bytes.
      const bucket = new mongo.GridFSBucket(lms.db.db!, { bucketName: 'catalog_packages' });
      const viaDriver: Buffer[] = [];
      for await (const c of bucket.openDownloadStream(`${v.packageId}/player/video.bin` as never)) viaDriver.push(c as Buffer);
      expect(Buffer.concat(viaDriver).equals(big)).to.equal(true);
      const ranged = (await svc.openContent(v.packageId, 'player/video.bin', { start: 261_000, end: 262_999 }))!;
      const rp: Buffer[] = [];
      for await (const c of ranged.body()) rp.push(c as Buffer);
      expect(Buffer.concat(rp).equals(big.subarray(261_000, 263_000))).to.equal(true);
    });

    it('stores files in CATALOG_PACKAGE_DIR when it is set', async () => {
      const storeDir = mkdtempSync(path.join(os.tmpdir(), 'catalog-store-'));
      try {
        const s = service({ CATALOG_PACKAGE_DIR: storeDir });
        const before = await counts();
        const r = await s.importPackage({ filePath: await zipOf('dir.zip', { id: `${COURSE}/dir` }) });
        const v = (await s.getVersion(r.courseId, 1))!;
        expect(await s.store.count(v.packageId)).to.equal(2);
        expect((await counts()).files).to.equal(before.files);
        const got = (await s.openContent(v.packageId, 'index.html'))!;
        expect(got.file.contentType).to.equal('text/html; charset=utf-8');
        await rejects(
          await zipOf('dir-bad.zip', { id: `${COURSE}/dir-bad`, aus: [{ url: 'index.html' }, { url: 'index.html?endpoint=x' }] }),
          422,
          /§8\.1/,
          s,
        );
        const { readdirSync } = await import('node:fs');
        expect(readdirSync(storeDir)).to.deep.equal([v.packageId]);
      } finally {
        rmSync(storeDir, { recursive: true, force: true });
      }
    });
  });

  describe('invalid packages are rejected with the rule and the place, and nothing is stored', () => {
    it('a zip without cmi5.xml', async () => {
      await rejects(
        await writeZip(path.join(dir, 'none.zip'), [{ name: 'index.html', data: 'x' }]),
        422,
        /cmi5 §14: the zip has no cmi5\.xml at its root/,
      );
    });

    it('cmi5.xml in a subfolder', async () => {
      await rejects(
        await writeZip(path.join(dir, 'sub.zip'), [
          { name: 'course/cmi5.xml', data: courseXml() },
          { name: 'course/index.html', data: 'x' },
        ]),
        422,
        /cmi5\.xml must be at the root of the zip, but it was found at "course\/cmi5\.xml"/,
      );
    });

    it('a structure that breaks the XSD (missing description, bad moveOn, masteryScore out of range)', async () => {
      const noDesc = courseXml().replace(/<description>.*?<\/description>/, '');
      const e = await rejects(
        await writeZip(path.join(dir, 'xsd1.zip'), [
          { name: 'cmi5.xml', data: noDesc },
          { name: 'index.html', data: 'x' },
        ]),
        422,
        /CourseStructure\.xsd.*line 3/,
      );
      expect(e.message).to.match(/description/);
      await rejects(
        file('xsd2.xml', courseXml({ aus: [{ url: 'https://x.example/a', moveOn: 'Finished' }] })),
        422,
        /CourseStructure\.xsd.*moveOn/,
      );
      await rejects(
        file('xsd3.xml', courseXml({ aus: [{ url: 'https://x.example/a', masteryScore: '1.5' }] })),
        422,
        /CourseStructure\.xsd.*masteryScore/,
      );
      await rejects(file('xsd4.xml', '<courseStructure><course id="x"/></courseStructure>'), 422, /CourseStructure\.xsd/);
      await rejects(
        file('xsd5.xml', '<courseStructure xmlns="' + 'https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"><course'),
        422,
        /CourseStructure\.xsd/,
      );
    });

    it('masteryScore with more than 4 decimal places', async () => {
      await rejects(
        file('ms.xml', courseXml({ aus: [{ url: 'https://x.example/a', masteryScore: '0.12345' }] })),
        422,
        /cmi5 §13\.1\.4 \(masteryScore\): masteryScore "0\.12345".*at au "https:\/\/example\.org\/courses\/firma-digital\/au\/1"/,
      );
    });

    it('ids that are not full IRIs', async () => {
      await rejects(
        file('iri1.xml', courseXml({ id: 'firma-digital', aus: [{ url: 'https://x.example/a' }] })),
        422,
        /cmi5 §13\.1\.1: the course id must be a full IRI.*at course "firma-digital"/,
      );
      await rejects(
        file('iri2.xml', courseXml({ aus: [{ id: 'au 1', url: 'https://x.example/a' }] })),
        422,
        /cmi5 §13\.1\.4: the au id must be a full IRI/,
      );
      await rejects(
        file('iri3.xml', courseXml({ blockId: 'bloque-1', aus: [{ url: 'https://x.example/a' }] })),
        422,
        /cmi5 §13\.1\.2: the block id must be a full IRI/,
      );
    });

    it('duplicate ids across AUs, blocks, objectives and the course', async () => {
      const dup = `${COURSE}/au/1`;
      await rejects(
        file('dup1.xml', courseXml({ aus: [{ url: 'https://x.example/a' }, { id: dup, url: 'https://x.example/b' }] })),
        422,
        /id is not unique within the course structure: it is also used by au/,
      );
      await rejects(
        file('dup2.xml', courseXml({ blockId: dup, aus: [{ url: 'https://x.example/a' }] })),
        422,
        /at au "https:\/\/example\.org\/courses\/firma-digital\/au\/1".*not unique|not unique.*au "https/,
      );
      await rejects(file('dup3.xml', courseXml({ aus: [{ id: COURSE, url: 'https://x.example/a' }] })), 422, /also used by course/);
    });

    it('an objective reference to an undeclared objective', async () => {
      await rejects(
        file(
          'obj.xml',
          courseXml({ objectives: [`${COURSE}/obj/1`], aus: [{ url: 'https://x.example/a', objectives: [`${COURSE}/obj/2`] }] }),
        ),
        422,
        /objective idref "https:\/\/example\.org\/courses\/firma-digital\/obj\/2" does not match/,
      );
    });

    it('a relative AU URL missing from the zip', async () => {
      await rejects(
        await writeZip(path.join(dir, 'missing.zip'), [
          { name: 'cmi5.xml', data: courseXml({ aus: [{ url: 'content/start.html' }] }) },
          { name: 'content/other.html', data: 'x' },
        ]),
        422,
        /cmi5 §14\.1: url "content\/start\.html" refers to "content\/start\.html", which is not in the zip \(at au "https:\/\/example\.org\/courses\/firma-digital\/au\/1"\)/,
      );
    });

    it('relative AU URLs that leave the package or start at the server root', async () => {
      await rejects(
        await writeZip(path.join(dir, 'up.zip'), [
          { name: 'cmi5.xml', data: courseXml({ aus: [{ url: '../index.html' }] }) },
          { name: 'index.html', data: 'x' },
        ]),
        422,
        /points outside the package/,
      );
      await rejects(
        await writeZip(path.join(dir, 'root.zip'), [
          { name: 'cmi5.xml', data: courseXml({ aus: [{ url: '/index.html' }] }) },
          { name: 'index.html', data: 'x' },
        ]),
        422,
        /must be relative to the package root/,
      );
    });

    it('a relative AU URL in a standalone cmi5.xml', async () => {
      await rejects(
        file('rel.xml', courseXml({ aus: [{ url: 'index.html' }] })),
        422,
        /cmi5 §14\.2: url "index\.html" is relative, but a cmi5\.xml without a zip must use fully qualified URLs/,
      );
    });

    it('launch parameter names in an AU URL query string', async () => {
      await rejects(
        file('lp.xml', courseXml({ aus: [{ url: 'https://x.example/a?registration=1&amp;actor=x&amp;lang=es'.replace(/&amp;/g, '&') }] })),
        422,
        /cmi5 §8\.1: .*launch parameter names "actor", "registration"|cmi5 §8\.1: .*"registration", "actor"/,
      );
      await rejects(await zipOf('lp.zip', { aus: [{ url: 'index.html?fetch=1' }] }), 422, /cmi5 §8\.1.*"fetch"/);
    });

    it('AU URLs that are not launchable URLs', async () => {
      await rejects(file('js.xml', courseXml({ aus: [{ url: 'javascript:alert(1)' }] })), 422, /javascript: scheme/);
      await rejects(file('sp.xml', courseXml({ aus: [{ url: 'https://x.example/a b' }] })), 422, /CourseStructure\.xsd|RFC 1738/);
    });

    it('path traversal, absolute and backslash entry names', async () => {
      const base = (extra: string) => [
        { name: 'cmi5.xml', data: courseXml() },
        { name: 'index.html', data: 'x' },
        { name: extra, data: 'evil' },
      ];
      await rejects(
        await writeZip(path.join(dir, 'trav.zip'), base('zz/evil.html'), { rename: [['zz/evil.html', '../evil.html']] }),
        422,
        /cmi5 §14\.1 \(zip\): the name climbs out of the package \(".."\) \(at zip entry "..\/evil.html"\)/,
      );
      await rejects(
        await writeZip(path.join(dir, 'abs.zip'), base('qetc/passwd'), { rename: [['qetc/passwd', '/etc/passwd']] }),
        422,
        /absolute path.*"\/etc\/passwd"/,
      );
      await rejects(await writeZip(path.join(dir, 'bs.zip'), base('a_b.html'), { rename: [['a_b.html', 'a\\b.html']] }), 422, /backslash/);
    });

    it('symbolic links', async () => {
      await rejects(
        await writeZip(path.join(dir, 'link.zip'), [
          { name: 'cmi5.xml', data: courseXml() },
          { name: 'index.html', data: 'x' },
          { name: 'secret', data: '/etc/passwd', mode: 0o120777 },
        ]),
        422,
        /the entry is a symbolic link \(at zip entry "secret"\)/,
      );
    });

    it('duplicate entry names', async () => {
      await rejects(
        await writeZip(
          path.join(dir, 'dupe.zip'),
          [
            { name: 'cmi5.xml', data: courseXml() },
            { name: 'index.html', data: 'x' },
            { name: 'indey.html', data: 'y' },
          ],
          { rename: [['indey.html', 'index.html']] },
        ),
        422,
        /appears twice/,
      );
    });

    it('oversized packages, zip bombs and too many entries', async () => {
      const zip = await zipOf('size.zip', { id: `${COURSE}/size` }, [{ name: 'big.bin', data: Buffer.alloc(4 * 1024 * 1024) }]);
      await rejects(zip, 413, /CATALOG_MAX_PACKAGE_MB/, service({ CATALOG_MAX_PACKAGE_MB: '0.001' }));
      await rejects(zip, 413, /more than 1 MB uncompressed.*at zip entry "big\.bin"/, service({ CATALOG_MAX_UNCOMPRESSED_MB: '1' }));
      await rejects(await zipOf('many.zip', { aus: manyAus(12) }), 413, /13 entries; at most 10/, service({ CATALOG_MAX_ENTRIES: '10' }));
      await rejects(
        file('aus.xml', courseXml({ aus: manyAus(6, (i) => `https://x.example/${i}`) })),
        422,
        /6 AUs; this server accepts at most 5/,
        service({ CATALOG_MAX_AUS: '5' }),
      );
    });

    it('files that are neither a zip nor XML, corrupt zips and DOCTYPEs', async () => {
      await rejects(file('notes.txt', 'hello'), 400, /neither a zip archive nor a cmi5\.xml/);
      await rejects(file('broken.zip', 'PK\u0003\u0004garbage'), 400, /not a readable zip archive/);
      await rejects(
        file('dtd.xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + courseXml().replace(/^<\?xml[^>]*>/, '')),
        422,
        /DOCTYPE declaration is not allowed/,
      );
    });

    it('an entry whose data does not match its CRC-32 (damaged after validation passed)', async () => {
      const zip = await writeZip(
        path.join(dir, 'crc.zip'),
        [
          { name: 'cmi5.xml', data: courseXml({ id: `${COURSE}/crc` }) },
          { name: 'index.html', data: 'x' },
          { name: 'media/clip.bin', data: 'PAYLOAD-0123456789', compress: false },
        ],
        { rename: [['PAYLOAD-0123456789', 'PAYLOAD-0123456780']] },
      );
      await rejects(zip, 400, /CRC-32.*at zip entry "media\/clip\.bin"/);
    });

    it('reads the refusal in Spanish and Portuguese, keeping the rule names of cmi5 and the status', async () => {
      const i18n = await createI18n();
      const [es, pt] = [i18n.getFixedT('es'), i18n.getFixedT('pt')];
      const missing = (await rejects(
        await writeZip(path.join(dir, 'missing-es.zip'), [
          { name: 'cmi5.xml', data: courseXml({ aus: [{ url: 'content/start.html' }] }) },
          { name: 'content/other.html', data: 'x' },
        ]),
        422,
        /which is not in the zip/,
      )) as PackageError;
      const au = 'au "https://example.org/courses/firma-digital/au/1"';
      expect(missing.explain(es).reason).to.equal(
        `cmi5 §14.1: la url «content/start.html» remite a «content/start.html», que no está en el zip (en ${au})`,
      );
      expect(missing.explain(pt).reason).to.equal(
        `cmi5 §14.1: a url «content/start.html» se refere a «content/start.html», que não está no zip (local: ${au})`,
      );

      const none = (await rejects(
        await writeZip(path.join(dir, 'none-es.zip'), [{ name: 'index.html', data: 'x' }]),
        422,
        /no cmi5\.xml/,
      )) as PackageError;
      expect(none.explain(es).reason).to.equal(
        'cmi5 §14: el zip no tiene un cmi5.xml en su raíz (ni un imsmanifest.xml de SCORM) (en el zip)',
      );
      expect(none.explain(pt).reason).to.equal('cmi5 §14: o zip não tem um cmi5.xml na raiz (nem um imsmanifest.xml SCORM) (local: o zip)');

      // Several problems: the first, how many more, and each one in the list.
      const entries = (await rejects(
        await writeZip(
          path.join(dir, 'entries-es.zip'),
          [
            { name: 'cmi5.xml', data: courseXml() },
            { name: 'index.html', data: 'x' },
            { name: 'zz/evil.html', data: 'evil' },
            { name: 'a_b.html', data: 'evil' },
          ],
          {
            rename: [
              ['zz/evil.html', '../evil.html'],
              ['a_b.html', 'a\\b.html'],
            ],
          },
        ),
        422,
        /climbs out of the package/,
      )) as PackageError;
      const esText = entries.explain(es);
      expect(esText.reason).to.equal(
        'cmi5 §14.1 (zip): el nombre sale fuera del paquete («..») (en la entrada «../evil.html» del zip) (y 1 problema más)',
      );
      expect(esText.details).to.deep.equal([
        'cmi5 §14.1 (zip): el nombre sale fuera del paquete («..») (en la entrada «../evil.html» del zip)',
        'cmi5 §14.1 (zip): el nombre contiene una barra invertida (en la entrada «a\\b.html» del zip)',
      ]);
      expect(entries.explain(pt).details[1]).to.equal(
        'cmi5 §14.1 (zip): o nome contém uma barra invertida (local: a entrada «a\\b.html» do zip)',
      );

      const big = (await rejects(
        await zipOf('big-es.zip', {}),
        413,
        /CATALOG_MAX_PACKAGE_MB/,
        service({ CATALOG_MAX_PACKAGE_MB: '0.0001' }),
      )) as PackageError;
      expect(big.explain(es).reason).to.match(
        /^limit: ocupa [\d.]+ MB; se aceptan como máximo 0 MB \(CATALOG_MAX_PACKAGE_MB\) \(en el archivo subido\)$/,
      );
      for (const t of [es, pt])
        for (const e of [missing, none, entries, big]) expect(e.explain(t).reason).not.to.match(/ the zip| which | at most |\(at /);
    });

    it('left nothing behind after all the rejections', async () => {
      const c = await counts();
      const versions = await lms.db.db!.collection('catalog_course_versions').find({}).toArray();
      const packageIds = new Set(versions.map((v) => v.packageId as string));
      const files = await lms.db
        .db!.collection('catalog_packages.files')
        .find({}, { projection: { metadata: 1 } })
        .toArray();
      expect(files.every((f) => packageIds.has(f.metadata.packageId))).to.equal(true);
      // The seven courses the valid imports above created; one of them has two versions.
      expect(c.courses).to.equal(7);
      expect(c.versions).to.equal(8);
    });
  });
});
