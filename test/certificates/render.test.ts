import { expect } from 'chai';
import { loadTemplates } from '../../server/plugins/certificates/templates';
import { renderCertificatePdf, type CertificateContent } from '../../server/plugins/certificates/pdf-render';
import { run, withPdfFile } from './helpers';

describe('certificates: PDF rendering', () => {
  const templates = loadTemplates();
  const base: CertificateContent = {
    kind: 'course',
    language: 'es',
    learnerName: '',
    title: 'Gobierno electrónico',
    hours: 10,
    completedAt: new Date('2026-05-01T00:00:00Z'),
    institution: 'Municipalidad de Demostración',
    code: 'A'.repeat(32),
    verifyUrl: `http://localhost/verify/${'A'.repeat(32)}`,
  };
  const textOf = (pdf: Buffer) => withPdfFile(pdf, async (file) => (await run('pdftotext', [file, '-'])).stdout);

  it('renders every Spanish and Portuguese letter, in any order of documents, and decomposed input too', async () => {
    const names = [
      'José Ñúñez da Conceição',
      'Jose Nunez',
      'ÁÉÍÓÚÜÑ áéíóúüñ ¿¡ ÃÕÂÊÔÀÇ ãõâêôàç',
      'Joa\u0303o Simo\u0303es', // decomposed (NFD) input
    ];
    for (const learnerName of names) {
      const text = await textOf(await renderCertificatePdf(templates.get('DEMO-MUNI')!, { ...base, learnerName }));
      expect(text).to.contain(learnerName.normalize('NFC'));
    }
  });

  it('a path certificate in English uses the path wording and no score line', async () => {
    const text = await textOf(
      await renderCertificatePdf(templates.get('default')!, {
        ...base,
        kind: 'path',
        language: 'en',
        learnerName: 'Kim Lee',
        title: 'ICT learning path',
      }),
    );
    expect(text)
      .to.contain('Certificate of completed training')
      .and.contain('has completed the learning path')
      .and.contain('Completion date: May 1, 2026');
    expect(text).to.not.contain('Score');
  });
  it('keeps the widest possible verification code on one line, in groups of four', async () => {
    // 32 random base32 letters can be all wide capitals; at the code's usual size they overflowed
    // the column and pdftotext found the code split over two lines.
    for (const code of ['M'.repeat(32), 'W'.repeat(32), 'MMDX55ZOJOKR52DNMHKNLMZWG745VGMW']) {
      const pdf = await renderCertificatePdf(templates.get('DEMO-MUNI')!, {
        ...base,
        learnerName: 'Ana',
        code,
        verifyUrl: `http://localhost/verify/${code}`,
      });
      const text = await withPdfFile(pdf, async (file) => (await run('pdftotext', ['-layout', file, '-'])).stdout);
      expect(text).to.contain(code.replace(/(.{4})(?=.)/g, '$1 '));
    }
  });
});
