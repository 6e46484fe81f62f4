/**
 * The published feed as harvesters and instances read it: OAI-PMH responses valid against the
 * OAI-PMH 2.0 schema (every verb, errors included), Dublin Core and LOM records carrying the
 * course's metadata, and the JSON feed verifiable by anyone with the well-known key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import { calculateJwkThumbprint, flattenedVerify, importJWK } from 'jose';
import supertest from 'supertest';
import { validateXML } from 'xmllint-wasm';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { META, validZip } from '../catalog/fixtures/packages';
import { oaiSchema } from './oai-schema';

const ID = 'https://example.org/courses/network-oai';

describe('network: OAI-PMH and the signed feed', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let xsd: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'network-oai-'));
  const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

  before(async () => {
    xsd = oaiSchema();
    lms = await testApp({
      env: { CONTENT_LIBRARY: 'off', NETWORK_PUBLISHER: 'Escuela Nacional de Administración Pública', NETWORK_COUNTRY: 'PER' },
    });
    const zip = await validZip(dir, 'oai.zip', { id: ID, title: 'Firma digital', meta: META });
    await lms.services.get('catalog.courses').importPackage({ filePath: zip });
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/network/admin').expect(200);
    const res = await agent
      .post('/network/admin/publish')
      .set('Accept', 'application/json')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), courseId: ID });
    expect(res.status, res.text).to.equal(200);
  });
  after(async () => {
    await lms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function oai(query: string) {
    const res = await supertest(lms.app).get(`/network/oai?${query}`).expect(200);
    expect(res.headers['content-type']).to.match(/^text\/xml/);
    const v = await validateXML({ xml: [{ fileName: 'response.xml', contents: res.text }], schema: [xsd] });
    expect(v.valid, `${query}: ${v.errors.map((e) => e.message).join('; ')}\n${res.text}`).to.equal(true);
    return { text: res.text, doc: parser.parse(res.text)['OAI-PMH'] };
  }

  it('answers every verb with schema-valid XML', async () => {
    const id = await oai('verb=Identify');
    expect(id.doc.Identify.repositoryName).to.equal('Escuela Nacional de Administración Pública');
    expect(id.doc.Identify.protocolVersion).to.equal('2.0');
    const formats = await oai('verb=ListMetadataFormats');
    expect(formats.doc.ListMetadataFormats.metadataFormat.map((f: { metadataPrefix: string }) => f.metadataPrefix)).to.deep.equal([
      'oai_dc',
      'lom',
    ]);
    const ids = await oai('verb=ListIdentifiers&metadataPrefix=oai_dc');
    expect(ids.doc.ListIdentifiers.header.identifier).to.equal(ID);
    const rec = await oai(`verb=GetRecord&metadataPrefix=oai_dc&identifier=${encodeURIComponent(ID)}`);
    const dc = rec.doc.GetRecord.record.metadata['oai_dc:dc'];
    expect(dc['@_xmlns:dc']).to.equal('http://purl.org/dc/elements/1.1/');
    expect(dc['dc:title'].map((t: { '#text': string }) => t['#text'])).to.include('Firma digital');
    expect(dc['dc:rights']).to.equal('CC BY-SA 4.0');
    expect(dc['dc:language']).to.deep.equal(['es', 'pt', 'en']);
    expect(dc['dc:identifier']).to.include(ID);
    const lom = (await oai('verb=ListRecords&metadataPrefix=lom')).doc.ListRecords.record.metadata.lom;
    expect(lom['@_xmlns']).to.equal('http://ltsc.ieee.org/xsd/LOM');
    expect(lom.general.identifier.entry).to.equal(ID);
    expect(lom.rights.description.string['#text']).to.equal('CC BY-SA 4.0');
    expect(lom.educational.typicalLearningTime.duration).to.equal('PT3H0M');
    expect(lom.technical.location).to.match(/\/network\/packages\/[a-f0-9]{64}\.zip$/);
  });

  it('answers bad requests with the protocol errors, still schema-valid', async () => {
    const code = (d: { error: { '@_code': string } }) => d.error['@_code'];
    expect(code((await oai('verb=Nonsense')).doc)).to.equal('badVerb');
    expect(code((await oai('')).doc)).to.equal('badVerb');
    expect(code((await oai('verb=ListRecords')).doc)).to.equal('badArgument');
    expect(code((await oai('verb=ListRecords&metadataPrefix=marc21')).doc)).to.equal('cannotDisseminateFormat');
    expect(code((await oai('verb=GetRecord&metadataPrefix=oai_dc&identifier=urn:nothing')).doc)).to.equal('idDoesNotExist');
    expect(code((await oai('verb=ListRecords&metadataPrefix=oai_dc&from=2099-01-01')).doc)).to.equal('noRecordsMatch');
    expect(code((await oai('verb=ListRecords&metadataPrefix=oai_dc&from=yesterday')).doc)).to.equal('badArgument');
    expect(code((await oai('verb=ListRecords&resumptionToken=forged')).doc)).to.equal('badResumptionToken');
    expect(code((await oai('verb=ListSets')).doc)).to.equal('noSetHierarchy');
    expect(code((await oai('verb=Identify&verb=Identify')).doc)).to.equal('badVerb');
  });

  it('signs the JSON feed with the key at the well-known URL', async () => {
    const jwks = (await supertest(lms.app).get('/.well-known/network-jwks.json').expect(200)).body as {
      keys: Array<Record<string, string>>;
    };
    const feed = (await supertest(lms.app).get('/network/feed.json').expect(200)).body;
    const { payload, protectedHeader } = await flattenedVerify(feed, await importJWK(jwks.keys[0], 'EdDSA'));
    expect(protectedHeader?.kid).to.equal(await calculateJwkThumbprint(jwks.keys[0]));
    const doc = JSON.parse(Buffer.from(payload).toString('utf8'));
    expect(doc.publisher).to.deep.include({ publisher: 'Escuela Nacional de Administración Pública', country: 'PER' });
    expect(doc.courses[0]).to.include({ id: ID, version: 1, license: 'CC BY-SA 4.0' });
    const zip = await supertest(lms.app)
      .get(`/network/${doc.courses[0].package}`)
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(zip.status).to.equal(200);
    const { createHash } = await import('node:crypto');
    expect(
      createHash('sha256')
        .update(zip.body as Buffer)
        .digest('hex'),
    ).to.equal(doc.courses[0].sha256);
    // One changed byte of the payload and the signature no longer verifies.
    const tampered = {
      ...feed,
      payload: Buffer.from(Buffer.from(feed.payload, 'base64url').toString().replace('Firma', 'Forma')).toString('base64url'),
    };
    let failed = false;
    await flattenedVerify(tampered, await importJWK(jwks.keys[0], 'EdDSA')).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });
});
