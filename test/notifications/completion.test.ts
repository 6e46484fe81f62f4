/**
 * Completion and certificate e-mails, end to end with a real SMTP server: learners of two
 * institutions complete a course (an activity waived by HR), the catalog's "satisfied" and the
 * certificates' "issued" after-events reach the notifications plugin through the outbox, and the
 * mails are read back — in each person's language, with the unsubscribe link — and a redelivered
 * event sends nothing more.
 */
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, settled, signIn } from '../helpers';
import type { startSmtp, Mail } from '../smtp';
import { completionWorld, type CompletionWorld } from './fixtures';

describe('notifications: completion and certificate e-mails', function () {
  this.timeout(120_000);
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let lms: LmsApp;
  let course: string;
  let people: CompletionWorld['people'] = {};
  const mailsTo = (addr: string): Mail[] => smtp.inbox.filter((m) => m.to.includes(addr));

  let complete: CompletionWorld['complete'];

  before(async () => {
    const world = await completionWorld({ ana: 'Ana', bia: 'Beatriz', hr: 'Helena' });
    ({ smtp, lms, course, complete, people } = world);
  });
  after(async () => {
    await lms?.close();
    await smtp?.close();
  });

  it('tells each learner of either institution that the course is completed, in their language', () => {
    const ana = mailsTo('ana@example.org').filter((m) => m.subject.startsWith('Completó'));
    expect(ana.map((m) => m.subject)).to.deep.equal(['Completó el curso «Información básica»']);
    expect(ana[0].text).to.contain('Hola, Ana:').and.contain('Registramos que completó el curso «Información básica»');
    expect(ana[0].text).to.contain('/catalog/my-path');
    expect(ana[0].html).to.match(/<html lang="es">/);
    const bia = mailsTo('bia@example.org').filter((m) => m.subject.startsWith('Você concluiu'));
    expect(bia.map((m) => m.subject)).to.deep.equal(['Você concluiu o curso “Información básica”']);
    expect(bia[0].html).to.match(/<html lang="pt">/);
  });

  it('tells the holder that the certificate is ready, with its verification address', async () => {
    const [cert] = await lms.db.collection('certificates_certificates').find({ userId: people.ana.id }).toArray();
    expect(cert, 'the certificates plugin issued one').to.not.equal(undefined);
    const mails = mailsTo('ana@example.org').filter((m) => m.subject.startsWith('Su certificado'));
    expect(mails.map((m) => m.subject)).to.deep.equal(['Su certificado del curso «Información básica» está listo']);
    expect(mails[0].text).to.contain(`/verify/${cert._id}`).and.contain('/certificates/mine');
    expect(mailsTo('bia@example.org').filter((m) => m.subject.startsWith('Seu certificado'))).to.have.length(1);
  });

  it('carries the unsubscribe link of its own kind, as the other e-mails do', async () => {
    for (const mail of mailsTo('ana@example.org')) {
      const list = mail.headers.get('list') as { unsubscribe: { url: string }; 'unsubscribe-post': { name: string } };
      expect(list['unsubscribe-post'].name).to.equal('List-Unsubscribe=One-Click');
      expect(mail.text).to.contain(list.unsubscribe.url);
      const kind = /^Completó/.test(mail.subject) ? 'completion' : 'certificate';
      expect(lms.services.get('notifications').readToken(list.unsubscribe.url.split('/').pop()!)).to.deep.equal({
        userId: people.ana.id,
        kind,
      });
    }
  });

  it('sends nothing more when an event is delivered again', async () => {
    const before = smtp.inbox.length;
    // As after a crash between a handler and the outbox's record of its delivery: the record is
    // gone, so the same occurrences are delivered again to every consumer.
    const done = lms.db.collection('core_outbox_done');
    await done.deleteMany({});
    const progress = (await lms.services.get('catalog').progressOf(people.ana.id, [course]))[0];
    const summary = (await lms.services.get('catalog').getCourse(course))!;
    const [cert] = await lms.db.collection('certificates_certificates').find({ userId: people.ana.id }).toArray();
    await lms.hooks.emit('catalog.course.satisfied', { userId: people.ana.id, course: summary, progress });
    await lms.hooks.emit('certificates.certificate.issued', { code: String(cert._id) });
    await settled(lms);
    expect(await done.countDocuments(), 'both were delivered again').to.equal(2);
    expect(smtp.inbox.length).to.equal(before);
    const sent = await lms.db.collection('notifications_deliveries').countDocuments({ userId: people.ana.id, status: 'sent' });
    expect(sent).to.equal(2);
  });

  it('sends nothing of a kind that HR switched off for institution A, while B still gets it', async () => {
    const hr = await signIn(lms, people.hr.email, people.hr.password);
    const page = await hr.get('/notifications/institutions').expect(200);
    expect(page.text).to.contain('Ministerio A').and.not.contain('Municipio B');
    const _csrf = csrfFrom(page.text);
    const saved = await hr
      .post('/notifications/institutions')
      .type('form')
      .send({ _csrf, institution: 'INST-A', on: ['reminders', 'digest', 'certificate'] })
      .expect(200);
    expect(saved.text).to.contain('Avisos da instituição salvos.');
    expect(saved.text).to.match(/id="i-INST-A-completion" name="on" value="completion">/);
    // HR of A cannot switch B's.
    const refused = await hr.post('/notifications/institutions').type('form').send({ _csrf, institution: 'INST-B' }).expect(403);
    expect(refused.text).to.contain('Essa instituição não está sob sua responsabilidade.');
    people.eva = await makeUser(lms, { email: 'eva@example.org', name: 'Eva', language: 'en', orgUnit: 'A2', tier: 'all' });
    people.caio = await makeUser(lms, { email: 'caio@example.org', name: 'Caio', language: 'pt', orgUnit: 'B2', tier: 'all' });
    await complete('eva');
    await complete('caio');
    const subjects = (addr: string) => mailsTo(addr).map((m) => m.subject.split(' ').slice(0, 2).join(' '));
    expect(subjects('eva@example.org')).to.deep.equal(['Your certificate']);
    expect(subjects('caio@example.org').sort()).to.deep.equal(['Seu certificado', 'Você concluiu']);
  });
});
