import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificatesApp } from './helpers';
import { loadTemplates, TEMPLATES_DIR } from '../../server/plugins/certificates/templates';
import { normaliseCode, newVerificationCode } from '../../server/plugins/certificates/verification-code';

describe('certificates: templates are checked at start-up', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cert-tpl-'));
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (name: string, change: (t: Record<string, unknown>) => void) => {
    const file = path.join(dir, name, 'template.json');
    const t = JSON.parse(readFileSync(file, 'utf8'));
    change(t);
    writeFileSync(file, JSON.stringify(t));
  };

  it('loads the shipped templates: default and the demo institution', () => {
    const t = loadTemplates();
    expect([...t.keys()]).to.include.members(['default', 'DEMO-MUNI']);
    expect(t.get('DEMO-MUNI')!.logoData!.length).to.be.greaterThan(100);
  });

  it('names the template and the field when a text is missing in one language', () => {
    edit('DEMO-MUNI', (t) => delete (t.texts as Record<string, Record<string, string>>).pt.heading);
    expect(() => loadTemplates(dir)).to.throw(/Certificate template "DEMO-MUNI".*texts\.pt\.heading/);
  });

  it('rejects a text without its {{slot}}, a bad colour and unknown keys', () => {
    edit('DEMO-MUNI', (t) => ((t.texts as Record<string, Record<string, string>>).en.hours = 'Duration: hours'));
    expect(() => loadTemplates(dir)).to.throw(/"DEMO-MUNI".*texts\.en\.hours: must contain \{\{hours\}\}/);
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    edit('default', (t) => ((t.colours as Record<string, string>).primary = 'blue'));
    expect(() => loadTemplates(dir)).to.throw(/"default".*colours\.primary/);
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    edit('default', (t) => (t.script = 'alert(1)'));
    expect(() => loadTemplates(dir)).to.throw(/"default"/);
  });

  it('rejects a logo that is missing, outside the folder or not the image it claims to be', () => {
    edit('DEMO-MUNI', (t) => (t.logo = '../default/logo.png'));
    expect(() => loadTemplates(dir)).to.throw(/"DEMO-MUNI".*logo/);
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    writeFileSync(path.join(dir, 'DEMO-MUNI', 'logo.png'), 'not a png');
    expect(() => loadTemplates(dir)).to.throw(/"DEMO-MUNI".*logo\.png is not a valid \.png image/);
  });

  it('stops the server start naming the broken template (CERT_TEMPLATES_DIR)', async () => {
    edit('DEMO-MUNI', (t) => delete (t.signatory as Record<string, unknown>).name);
    let error = '';
    await certificatesApp({ CERT_TEMPLATES_DIR: dir }).then(
      (lms) => lms.close(),
      (err: Error) => (error = err.message),
    );
    expect(error).to.match(/Plugin "certificates" failed to load: Certificate template "DEMO-MUNI".*signatory\.name/);
  });

  it('rejects malformed JSON and a missing default template', () => {
    writeFileSync(path.join(dir, 'DEMO-MUNI', 'template.json'), '{ "institution": ');
    expect(() => loadTemplates(dir)).to.throw(/"DEMO-MUNI".*not valid JSON/);
    rmSync(path.join(dir, 'default'), { recursive: true });
    expect(() => loadTemplates(dir)).to.throw(/"default" is missing/);
  });
});

describe('certificates: verification codes', () => {
  it('are 32 base32 characters (160 random bits), unique, and read back from what people type', () => {
    const codes = new Set(Array.from({ length: 2000 }, newVerificationCode));
    expect(codes.size).to.equal(2000);
    for (const c of codes) expect(c).to.match(/^[A-Z2-7]{32}$/);
    const c = [...codes][0];
    expect(normaliseCode(c.toLowerCase().replace(/(.{4})(?=.)/g, '$1-'))).to.equal(c);
    for (const bad of [undefined, 42, '', 'A'.repeat(31), 'A'.repeat(33), '0'.repeat(32), '{"$gt":""}'])
      expect(normaliseCode(bad)).to.equal(undefined);
  });
});
