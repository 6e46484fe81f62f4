import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import { CoursesService } from '../../server/plugins/catalog/courses.service';
import { packageSettings } from '../../server/plugins/catalog/package/settings';
import { allAus } from '../../server/plugins/catalog/paths/course-reader';
import { testApp } from '../helpers';
import { writeZip } from './fixtures/packages';
import { manifestXml, scormZip, type ManifestSpec, type ScormEdition } from './fixtures/scorm-packages';

const ID = (identifier: string) => `urn:scorm:${encodeURIComponent(identifier)}`;

describe('catalog: SCORM package import', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let svc: CoursesService;
  let dir: string;

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
  const rejects = async (filePath: string, status: number, pattern: RegExp, s = svc) => {
    const before = await counts();
    let err: unknown;
    try {
      await s.importPackage({ filePath, originalName: path.basename(filePath) });
    } catch (e) {
      err = e;
    }
    expect(err, 'import should fail').to.be.instanceOf(HttpError);
    expect((err as HttpError).status, (err as Error).message).to.equal(status);
    expect((err as HttpError).message).to.match(pattern);
    expect(await counts()).to.deep.equal(before);
    return err as HttpError;
  };
  const zipWith = (name: string, spec: ManifestSpec) => scormZip(dir, name, spec);
  const rawZip = (name: string, manifest: string, files = ['sco1/index.html']) =>
    writeZip(path.join(dir, name), [
      { name: 'imsmanifest.xml', data: manifest },
      ...files.map((f) => ({ name: f, data: '<!doctype html><title>x</title>' })),
    ]);

  before(async () => {
    lms = await testApp();
    svc = new CoursesService(lms.db, packageSettings({}), 'http://lms.example');
    await svc.init();
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-fixtures-'));
  });
  after(async () => {
    await lms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports SCORM 1.2: modules become blocks, SCOs units with mastery score and launch data, assets satisfied at once', async () => {
    const zip = await zipWith('s12.zip', {
      identifier: 'org.example.s12',
      title: 'Atención ciudadana',
      items: [
        { module: 'mod1', title: 'Módulo 1', items: [{ id: 'intro', mastery: '80', launchData: 'nivel=1', parameters: '?start=1' }] },
        { id: 'glossary', type: 'asset', href: 'glossary/index.html' },
      ],
    });
    const r = await svc.importPackage({ filePath: zip, originalName: 's12.zip' });
    expect(r).to.deep.equal({ courseId: ID('org.example.s12'), version: 1, auCount: 2, format: 'scorm', alreadyInstalled: false });
    const course = await svc.getCourse(r.courseId);
    expect(course!.title).to.deep.equal([{ lang: 'und', text: 'Atención ciudadana' }]);
    const v = await svc.getVersion(r.courseId, 1);
    expect(v!.format).to.equal('scorm');
    expect(v!.formatVersion).to.equal('1.2');
    expect(v!.structure[0]).to.include({ type: 'block', id: `${r.courseId}/mod1` });
    const [intro, glossary] = allAus(v!.structure);
    expect(intro).to.deep.include({
      id: `${r.courseId}/item_intro`,
      url: 'intro/index.html?start=1',
      moveOn: 'Passed',
      masteryScore: 0.8,
      scorm: { scormType: 'sco', launchData: 'nivel=1' },
    });
    expect(glossary).to.deep.include({ url: 'glossary/index.html', moveOn: 'NotApplicable', scorm: { scormType: 'asset' } });
    expect(await svc.store.count(v!.packageId)).to.equal(3);
  });

  it('imports SCORM 2004 4th and 3rd Edition: mastery from the primary objective, CompletedOrPassed without one', async () => {
    const r4 = await svc.importPackage({
      filePath: await zipWith('s2004.zip', {
        edition: '2004 4th Edition',
        identifier: 'org.example.s2004',
        items: [
          { id: 'a', mastery: '0.7' },
          { id: 'b' },
          {
            id: 'c',
            sequencing:
              '<imsss:sequencing><imsss:deliveryControls completionSetByContent="true" objectiveSetByContent="true"/></imsss:sequencing>',
          },
        ],
      }),
    });
    const v4 = await svc.getVersion(r4.courseId, 1);
    expect(v4!.formatVersion).to.equal('2004 4th Edition');
    const [a, b, c] = allAus(v4!.structure);
    expect(a).to.include({ moveOn: 'Passed', masteryScore: 0.7 });
    expect(b).to.include({ moveOn: 'CompletedOrPassed' });
    expect(b.masteryScore).to.equal(undefined);
    // Delivery controls: kept only when the SCO, not the LMS, decides (their default is false).
    expect(b.scorm).to.deep.equal({ scormType: 'sco' });
    expect(c.scorm).to.deep.equal({ scormType: 'sco', completionSetByContent: true, objectiveSetByContent: true });
    const r3 = await svc.importPackage({
      filePath: await zipWith('s3rd.zip', { edition: '2004 3rd Edition', identifier: 'org.example.s3rd' }),
    });
    expect((await svc.getVersion(r3.courseId, 1))!.formatVersion).to.equal('2004 3rd Edition');
  });

  it('re-imports: the same zip changes nothing; a changed one becomes version 2', async () => {
    const zip = await zipWith('again.zip', { identifier: 'org.example.again' });
    const first = await svc.importPackage({ filePath: zip });
    expect((await svc.importPackage({ filePath: zip })).alreadyInstalled).to.equal(true);
    const changed = await zipWith('again2.zip', { identifier: 'org.example.again', title: 'Otro título' });
    const second = await svc.importPackage({ filePath: changed });
    expect(second).to.include({ courseId: first.courseId, version: 2, alreadyInstalled: false });
    expect((await svc.getVersion(first.courseId, 1))!.version).to.equal(1);
  });

  describe('rejections name the rule and store nothing', () => {
    it('imsmanifest.xml in a subfolder, and a zip with no manifest at all', async () => {
      await rejects(
        await writeZip(path.join(dir, 'nested.zip'), [
          { name: 'course/imsmanifest.xml', data: manifestXml() },
          { name: 'course/sco1/index.html', data: 'x' },
        ]),
        422,
        /SCORM CAM §3\.2 \(PIF\): imsmanifest\.xml must be at the root of the zip, but it was found at "course\/imsmanifest\.xml"/,
      );
      await rejects(
        await writeZip(path.join(dir, 'none.zip'), [{ name: 'index.html', data: 'x' }]),
        422,
        /no cmi5\.xml at its root \(nor a SCORM imsmanifest\.xml\)/,
      );
    });

    it('a manifest that is not an IMS content package, an unknown schemaversion, malformed XML and a DOCTYPE', async () => {
      await rejects(
        await rawZip('ns.zip', '<manifest identifier="m"><organizations/></manifest>'),
        422,
        /SCORM CAM §3\.4 \(manifest\): the root element must be <manifest> in the IMS Content Packaging namespace/,
      );
      await rejects(
        await rawZip(
          'sv.zip',
          manifestXml().replace('<schemaversion>1.2</schemaversion>', '<schemaversion>2004 5th Edition</schemaversion>'),
        ),
        422,
        /schemaversion "2004 5th Edition" is not one this server runs/,
      );
      await rejects(await rawZip('bad.zip', manifestXml().replace('</resources>', '')), 422, /XML 1\.0 \(well-formedness\)/);
      await rejects(
        await rawZip(
          'dtd.zip',
          manifestXml().replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]>'),
        ),
        422,
        /DOCTYPE declaration is not allowed/,
      );
    });

    it('slips that Moodle and SCORM Cloud accept: a default naming no organization, a SCORM 1.2 item with children that launches', async () => {
      const def = await svc.importPackage({
        filePath: await rawZip('def.zip', manifestXml({ identifier: 'org.example.def' }).replace('default="org1"', 'default="org9"')),
      });
      const dv = (await svc.getVersion(def.courseId, def.version))!;
      expect(allAus(dv.structure).map((a) => a.url)).to.deep.equal(['sco1/index.html']);
      // A 1.2 parent item that launches: its unit comes first in its block, then its children.
      const parentOf = (edition: ScormEdition) =>
        manifestXml({ edition, identifier: 'org.example.parent', items: [{ module: 'm1', items: [{ id: 'sco2' }] }] }).replace(
          '<item identifier="m1">',
          '<item identifier="m1" identifierref="res_sco2">',
        );
      const parent = parentOf('1.2');
      const p = await svc.importPackage({ filePath: await rawZip('parent.zip', parent, ['sco2/index.html']) });
      const pv = (await svc.getVersion(p.courseId, p.version))!;
      const block = pv.structure[0]!;
      expect(block.type).to.equal('block');
      expect(allAus(pv.structure).map((a) => a.id)).to.deep.equal([
        `${ID('org.example.parent')}/m1`,
        `${ID('org.example.parent')}/item_sco2`,
      ]);
      // SCORM 2004 forbids it.
      await rejects(
        await rawZip('parent2004.zip', parentOf('2004 4th Edition'), ['sco2/index.html']),
        422,
        /an item with child items cannot also launch a resource/,
      );
    });

    it('items and resources that do not fit together', async () => {
      await rejects(
        await rawZip('ref.zip', manifestXml().replace('identifierref="res_sco1"', 'identifierref="res_missing"')),
        422,
        /identifierref "res_missing" does not name any <resource>.*at item "item_sco1"/,
      );
      await rejects(
        await rawZip('leaf.zip', manifestXml().replace(' identifierref="res_sco1"', '')),
        422,
        /a leaf item must reference a resource/,
      );
      await rejects(
        await rawZip(
          'dup.zip',
          manifestXml()
            .replace('identifier="res_sco1"', 'identifier="item_sco1"')
            .replace('identifierref="res_sco1"', 'identifierref="item_sco1"'),
        ),
        422,
        /identifier "item_sco1" is also used by a resource/,
      );
      await rejects(
        await rawZip('type.zip', manifestXml().replace('adlcp:scormtype="sco"', 'adlcp:scormtype="lesson"')),
        422,
        /adlcp:scormType must be "sco" or "asset", not "lesson"/,
      );
      await rejects(
        await rawZip('org.zip', manifestXml({ organizations: '<organizations/>' })),
        422,
        /no <organization>: there is nothing to launch/,
      );
      await rejects(
        await rawZip('mastery.zip', manifestXml({ items: [{ id: 'sco1', mastery: '150' }] })),
        422,
        /SCORM 1\.2 CAM \(adlcp:masteryscore\): masteryscore "150" must be a number from 0 to 100/,
      );
    });

    it('launch files missing from the zip, outside the package, or of unsafe schemes', async () => {
      await rejects(
        await rawZip('missing.zip', manifestXml(), ['other.html']),
        422,
        /href "sco1\/index.html" refers to "sco1\/index.html", which is not in the zip/,
      );
      await rejects(
        await rawZip('up.zip', manifestXml({ items: [{ id: 'sco1', href: '../outside.html' }] })),
        422,
        /href "..\/outside.html" points outside the package/,
      );
      await rejects(
        await rawZip('root.zip', manifestXml({ items: [{ id: 'sco1', href: '/etc/passwd' }] })),
        422,
        /points outside the package/,
      );
      await rejects(
        await rawZip('abs.zip', manifestXml({ items: [{ id: 'sco1', href: 'https://elsewhere.example/sco.html' }] })),
        422,
        /a SCO must be a file of the package to reach the SCORM API/,
      );
      await rejects(
        await rawZip('js.zip', manifestXml({ items: [{ id: 'sco1', href: 'javascript:alert(1)' }] })),
        422,
        /scheme that cannot launch content safely/,
      );
    });

    it('the same zip safety as cmi5, named as SCORM: traversal, symbolic links, bombs, entry counts', async () => {
      const base = (extra: { name: string; data: string; mode?: number }) => [
        { name: 'imsmanifest.xml', data: manifestXml() },
        { name: 'sco1/index.html', data: 'x' },
        extra,
      ];
      await rejects(
        await writeZip(path.join(dir, 'trav.zip'), base({ name: 'zz/evil.html', data: 'e' }), {
          rename: [['zz/evil.html', '../evil.html']],
        }),
        422,
        /SCORM CAM §3\.2 \(PIF\): the name climbs out of the package/,
      );
      await rejects(
        await writeZip(path.join(dir, 'link.zip'), base({ name: 'secret', data: '/etc/passwd', mode: 0o120777 })),
        422,
        /SCORM CAM §3\.2 \(PIF\): the entry is a symbolic link/,
      );
      const big = await writeZip(path.join(dir, 'bomb.zip'), [...base({ name: 'big.bin', data: '0'.repeat(3 * 1024 * 1024) })]);
      await rejects(
        big,
        413,
        /more than 1 MB uncompressed/,
        new CoursesService(lms.db, packageSettings({ CATALOG_MAX_UNCOMPRESSED_MB: '1' }), 'http://lms.example'),
      );
      await rejects(
        big,
        413,
        /at most 2 are accepted \(CATALOG_MAX_ENTRIES\)/,
        new CoursesService(lms.db, packageSettings({ CATALOG_MAX_ENTRIES: '2' }), 'http://lms.example'),
      );
      await rejects(
        await zipWith('aus.zip', { identifier: 'org.example.many', items: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] }),
        422,
        /3 SCOs and assets; this server accepts at most 2 \(CATALOG_MAX_AUS\)/,
        new CoursesService(lms.db, packageSettings({ CATALOG_MAX_AUS: '2' }), 'http://lms.example'),
      );
    });

    it('manifests that break the ADL/IMS schemas where the reader does not look: named by the XSD rule and line, whatever schemas the package names', async () => {
      // SCORM 1.2: the mastery score before the title (IMS CP 1.1.2 item: title first).
      const misordered = manifestXml({ identifier: 'org.example.order', items: [{ id: 'sco1', mastery: '80' }] }).replace(
        /(<title>Lección sco1<\/title>)(<adlcp:masteryscore>80<\/adlcp:masteryscore>)/,
        '$2$1',
      );
      const err = await rejects(
        await rawZip('order.zip', misordered),
        422,
        /^Invalid course package: SCORM 1\.2 CAM \(XML Schema: IMS CP 1\.1\.2, ADL CP 1\.2\): Element '\{http:\/\/www\.imsproject\.org\/xsd\/imscp_rootv1p1p2\}title': This element is not expected\. \(at imsmanifest\.xml line 7\)$/,
      );
      expect(await svc.getCourse('urn:scorm:org.example.order')).to.equal(null);
      expect(err.options.details).to.have.length(1);
      // An element IMS CP does not have, in its namespace; an ADL CP 1.2 value of the wrong type.
      await rejects(
        await rawZip('unknown.zip', manifestXml().replace('<resources>', '<script>alert(1)</script><resources>')),
        422,
        /XML Schema.*Element '\{http:\/\/www\.imsproject\.org\/xsd\/imscp_rootv1p1p2\}script': This element is not expected/,
      );
      await rejects(
        await rawZip(
          'maxtime.zip',
          manifestXml().replace(
            '<title>Lección sco1</title>',
            '<title>Lección sco1</title><adlcp:timelimitaction>explode</adlcp:timelimitaction>',
          ),
        ),
        422,
        /XML Schema.*timelimitaction.*'explode'/,
      );
      // SCORM 2004: IMS Simple Sequencing is checked too (a boolean that is not one).
      const seq = manifestXml({ edition: '2004 4th Edition', identifier: 'org.example.seq' }).replace(
        '</organization>',
        '<imsss:sequencing><imsss:controlMode flow="perhaps"/></imsss:sequencing></organization>',
      );
      await rejects(
        await rawZip('seq.zip', seq),
        422,
        /SCORM 2004 4th Edition CAM \(XML Schema.*flow.*'perhaps'.*at imsmanifest\.xml line \d+/,
      );
      // The package names a schema of its own that allows anything: ours are the ones read, never a package's or a URL's.
      const anything =
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.imsproject.org/xsd/imscp_rootv1p1p2"><xs:element name="manifest"><xs:complexType><xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence><xs:anyAttribute processContents="skip"/></xs:complexType></xs:element></xs:schema>';
      const hinted = manifestXml({ identifier: 'org.example.hint' })
        .replace(
          'version="1" ',
          'version="1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 anything.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 http://attacker.invalid/adlcp.xsd" ',
        )
        .replace('<resources>', '<script/><resources>');
      const zip = await writeZip(path.join(dir, 'hint.zip'), [
        { name: 'imsmanifest.xml', data: hinted },
        { name: 'anything.xsd', data: anything },
        { name: 'sco1/index.html', data: '<!doctype html><title>x</title>' },
      ]);
      await rejects(zip, 422, /XML Schema.*\}script': This element is not expected/);
    });

    it('a standalone imsmanifest.xml (SCORM packages come as zips)', async () => {
      const f = path.join(dir, 'imsmanifest.xml');
      writeFileSync(f, manifestXml());
      await rejects(f, 422, /SCORM CAM §3\.2 \(PIF\): a SCORM imsmanifest\.xml is imported inside its package zip/);
    });
  });
});
