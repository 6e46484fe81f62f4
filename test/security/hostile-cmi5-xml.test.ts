import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import iconv from 'iconv-lite';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { lrsPlugin } from '../../server/plugins/lrs';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { COURSE, courseXml } from '../catalog/fixtures/packages';

/**
 * A standalone cmi5.xml in UTF-16 or UTF-32, with or without a byte-order mark (XML 1.0 Appendix F),
 * imports like its UTF-8 twin; a DOCTYPE or entity is refused by name whatever the encoding hides
 * it in (a zero byte between its letters), so no entity is ever expanded or fetched.
 */
describe('security: cmi5.xml in every encoding, and no DTDs in any', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let admin: TestAgent;
  let dir: string;

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin] });
    const a = await makeUser(lms, { role: 'admin' });
    admin = await signIn(lms, a.email, a.password);
    dir = mkdtempSync(path.join(os.tmpdir(), 'security-cmi5-'));
  });
  after(async () => {
    await lms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const BOM: Record<string, number[]> = {
    utf16le: [0xff, 0xfe],
    utf16be: [0xfe, 0xff],
    utf32le: [0xff, 0xfe, 0, 0],
    utf32be: [0, 0, 0xfe, 0xff],
  };
  const encode = (text: string, encoding: string, bom: boolean) =>
    Buffer.concat([Buffer.from(bom ? BOM[encoding] : []), iconv.encode(text, encoding)]);
  const DECLARED: Record<string, string> = { utf8: 'UTF-8', utf16le: 'UTF-16', utf16be: 'UTF-16', utf32le: 'UTF-32', utf32be: 'UTF-32' };
  const xmlIn = (id: string, encoding: string) =>
    courseXml({
      id,
      title: 'Gestión pública: ñandú, São Paulo, 公共',
      aus: [{ url: 'https://aus.example.org/a/index.html', moveOn: 'Completed' }],
    }).replace('encoding="utf-8"', `encoding="${DECLARED[encoding]}"`);
  async function upload(bytes: Buffer) {
    const file = path.join(dir, `cmi5-${Math.random().toString(36).slice(2)}.xml`);
    writeFileSync(file, bytes);
    const csrf = csrfFrom((await admin.get('/catalog/admin/courses').expect(200)).text);
    return admin.post('/catalog/admin/courses').set('Accept', 'application/json').field('_csrf', csrf).attach('package', file);
  }
  const courses = () => lms.db.collection('catalog_courses').countDocuments({});

  for (const encoding of ['utf16le', 'utf16be', 'utf32le', 'utf32be'])
    for (const bom of [true, false])
      it(`imports a cmi5.xml in ${encoding} ${bom ? 'with' : 'without'} a byte-order mark`, async () => {
        const id = `${COURSE}/${encoding}-${bom ? 'bom' : 'nobom'}`;
        const res = await upload(encode(xmlIn(id, encoding), encoding, bom));
        expect(res.status, res.text).to.be.below(300);
        const course = await lms.db.collection('catalog_courses').findOne({ _id: id as never });
        expect(JSON.stringify(course), 'course stored').to.contain('Gestión pública: ñandú, São Paulo, 公共');
      });

  const hostile = {
    'an external entity (XXE)': '<!DOCTYPE courseStructure [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    'entity expansion (billion laughs)': '<!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    'an external DTD': '<!DOCTYPE courseStructure SYSTEM "http://127.0.0.1:1/evil.dtd">',
  };
  for (const [what, doctype] of Object.entries(hostile))
    for (const encoding of ['utf8', 'utf16le', 'utf16be'])
      it(`refuses ${what} in ${encoding} without a byte-order mark, naming the rule, storing nothing`, async () => {
        const before = await courses();
        const xml = xmlIn(`${COURSE}/dtd-${encoding}`, encoding).replace('?>', `?>${doctype}`);
        const res = await upload(encoding === 'utf8' ? Buffer.from(xml) : encode(xml, encoding, false));
        expect(res.status, res.text).to.equal(422);
        expect(res.body.error.message).to.match(/DOCTYPE declaration is not allowed/);
        expect(await courses()).to.equal(before);
      });

  it('refuses a file whose bytes hold NUL characters (an encoding misread) by name', async () => {
    const xml = Buffer.concat([Buffer.from(xmlIn(`${COURSE}/nul`, 'utf8')), Buffer.from([0, 0x3c, 0])]);
    const res = await upload(xml);
    expect(res.status, res.text).to.be.within(400, 499);
    expect(res.body.error.message).to.match(/NUL/);
  });
});
