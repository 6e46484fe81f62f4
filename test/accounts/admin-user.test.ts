import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { startSmtp, type Mail } from '../smtp';

/**
 * One account's page: an administrator changes anyone's role, unit, level and tier; an HR officer
 * only the placement of the people of their own institution, never another institution's, never
 * a role; a person with no password gets a new invitation (e-mailed through a real SMTP server,
 * or shown as a link without one), and the sign-in page confirms the activation.
 */
describe('accounts: editing an account and resending its invitation', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let inbox: Mail[] = [];

  before(async () => {
    smtp = await startSmtp();
    inbox = smtp.inbox;
    lms = await testApp({ env: { SMTP_URL: `${smtp.url}?ignoreTLS=true`, MAIL_FROM: 'aprende@gob.test' } });
    const org = lms.services.get('reports.internal').org;
    for (const u of [
      { code: 'XC', name: 'País de prueba', parent: '', kind: 'country', level: '' },
      { code: 'INST-A', name: 'Ministerio A', parent: 'XC', kind: 'institution', level: 'national' },
      { code: 'A-TIC', name: 'Dirección TIC de A', parent: 'INST-A', kind: 'unit', level: '' },
      { code: 'INST-B', name: 'Ministerio B', parent: 'XC', kind: 'institution', level: 'national' },
    ])
      await org.save(u as never);
    await lms.services.get('catalog.paths').addTier('auditor', [{ lang: 'es', text: 'Auditoría interna' }]);
  });
  after(async () => {
    await lms.close();
    await smtp?.close();
  });

  const form = async (agent: supertest.Agent, id: string) => {
    const page = await agent.get(`/accounts/admin/users/${id}`).expect(200);
    return { page: page.text, csrf: csrfFrom(page.text) };
  };

  it('an administrator changes role, unit, level and a tier the admin created; bad values are 400 in Spanish', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const person = await makeUser(lms, { orgUnit: 'INST-A', tier: 'all', level: 'national' });
    const agent = await signIn(lms, admin.email, admin.password);
    const { page, csrf } = await form(agent, person.id);
    expect(page).to.contain('Auditoría interna').and.contain('<select id="role"');
    await agent
      .post(`/accounts/admin/users/${person.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'hr', orgUnit: 'INST-B', level: 'regional', tier: 'auditor' })
      .expect(303);
    const after = await lms.services.get('accounts.users').findById(person.id);
    expect(after).to.include({ role: 'hr', orgUnit: 'INST-B', level: 'regional', tier: 'auditor' });
    expect((await agent.get(`/accounts/admin/users/${person.id}?saved=1`).expect(200)).text).to.contain('Cambios guardados.');

    const bad = await agent
      .post(`/accounts/admin/users/${person.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'hr', orgUnit: 'INST-B', level: 'regional', tier: 'inventado' })
      .expect(400);
    expect(bad.text).to.contain('El nivel de rol «inventado» no existe');
    const badLevel = await agent
      .post(`/accounts/admin/users/${person.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'hr', orgUnit: 'INST-B', level: 'planetario', tier: '' })
      .expect(400);
    expect(badLevel.text).to.contain('El nivel de gobierno «planetario» no existe');
    await agent.get('/accounts/admin/users/000000000000000000000000').expect(404);
    // Without the CSRF token nothing changes.
    await agent.post(`/accounts/admin/users/${person.id}`).type('form').send({ role: 'admin', orgUnit: 'INST-B' }).expect(403);
    expect((await lms.services.get('accounts.users').findById(person.id))?.role).to.equal('hr');
  });

  it("an HR officer of institution A edits A's people only, within A, and never a role", async () => {
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const ours = await makeUser(lms, { orgUnit: 'INST-A', tier: 'all' });
    const theirs = await makeUser(lms, { orgUnit: 'INST-B', tier: 'all' });
    const admin = await makeUser(lms, { role: 'admin', orgUnit: 'INST-A' });
    const agent = await signIn(lms, hr.email, hr.password);
    const { page, csrf } = await form(agent, ours.id);
    expect(page).not.to.contain('<select id="role"');
    await agent
      .post(`/accounts/admin/users/${ours.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'learner', orgUnit: 'A-TIC', level: 'national', tier: 'technical' })
      .expect(303);
    expect(await lms.services.get('accounts.users').findById(ours.id)).to.include({ orgUnit: 'A-TIC', tier: 'technical' });

    // Institution B's person: no page, no write, in the page's language.
    const other = await agent.get(`/accounts/admin/users/${theirs.id}`).expect(403);
    expect(other.text).to.contain('no pertenece a las unidades a su cargo');
    await agent
      .post(`/accounts/admin/users/${theirs.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'learner', orgUnit: 'INST-A', level: 'national', tier: 'all' })
      .expect(403);
    await agent.post(`/accounts/admin/users/${theirs.id}/invite`).type('form').send({ _csrf: csrf }).expect(403);
    expect((await lms.services.get('accounts.users').findById(theirs.id))?.orgUnit).to.equal('INST-B');
    // Nor moving one of A's people into B, nor giving rights, nor touching the administrator.
    const moved = await agent
      .post(`/accounts/admin/users/${ours.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'learner', orgUnit: 'INST-B', level: 'national', tier: 'all' })
      .expect(403);
    expect(moved.text).to.contain('La unidad «INST-B» no está entre las unidades a su cargo');
    await agent
      .post(`/accounts/admin/users/${ours.id}`)
      .type('form')
      .send({ _csrf: csrf, role: 'admin', orgUnit: 'INST-A', level: 'national', tier: 'all' })
      .expect(403);
    expect(await lms.services.get('accounts.users').findById(ours.id)).to.include({ role: 'learner', orgUnit: 'A-TIC' });
    await agent.get(`/accounts/admin/users/${admin.id}`).expect(403);
    await agent.get(`/accounts/admin/users/${hr.id}`).expect(403);
    // A learner has no such page at all.
    const learner = await signIn(lms, (await makeUser(lms, { orgUnit: 'INST-A', email: 'l@a.gov' })).email, 'correct horse battery');
    await learner.get(`/accounts/admin/users/${ours.id}`).expect(403);
  });

  it('resends an invitation in the person’s language; only the newest link works; sign-in confirms the activation', async () => {
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const invited = await lms.services
      .get('accounts.users')
      .create({ email: 'nova@a.gov', name: 'Ana Nova', orgUnit: 'INST-A', language: 'pt' });
    const agent = await signIn(lms, hr.email, hr.password);
    const { page, csrf } = await form(agent, invited.id);
    expect(page).to.contain('Enviar una invitación nueva');
    const links: string[] = [];
    for (let i = 1; i <= 2; i++) {
      const res = await agent.post(`/accounts/admin/users/${invited.id}/invite`).type('form').send({ _csrf: csrf }).expect(200);
      expect(res.text).to.contain('Se envió una invitación nueva a nova@a.gov');
      const mail = inbox.filter((m) => m.to === 'nova@a.gov');
      expect(mail).to.have.length(i);
      expect(mail[i - 1].subject).to.equal('Seu acesso à formação em TIC');
      links.push(/\/reports\/invite\/[\w.-]+/.exec(mail[i - 1].text)![0]);
    }
    const visitor = supertest.agent(lms.app);
    await visitor.get(links[0]).expect(404);
    const invitePage = await visitor.get(links[1]).expect(200);
    await visitor
      .post(links[1])
      .type('form')
      .send({ _csrf: csrfFrom(invitePage.text), password: 'uma frase bem longa', confirm: 'uma frase bem longa' })
      .expect(303)
      .expect('location', '/accounts/login?invited=1');
    const login = await visitor.get('/accounts/login?invited=1').expect(200);
    expect(login.text).to.contain('Su contraseña quedó guardada');
    await signIn(lms, 'nova@a.gov', 'uma frase bem longa');
    // With a password there is nothing to resend.
    expect((await form(agent, invited.id)).page).not.to.contain('Enviar una invitación nueva');
    const again = await agent.post(`/accounts/admin/users/${invited.id}/invite`).type('form').send({ _csrf: csrf }).expect(409);
    expect(again.text).to.contain('Esta persona ya tiene contraseña');
  });

  it('without a mail server, the new invitation is shown as a link to hand over', async () => {
    const bare = await testApp();
    try {
      const admin = await makeUser(bare, { role: 'admin' });
      const invited = await bare.services.get('accounts.users').create({ email: 'sin@correo.gov', name: 'Sin Correo' });
      const agent = await signIn(bare, admin.email, admin.password);
      const { csrf } = await form(agent, invited.id);
      const res = await agent.post(`/accounts/admin/users/${invited.id}/invite`).type('form').send({ _csrf: csrf }).expect(200);
      expect(res.text).to.contain('no hay servidor de correo configurado');
      const link = /value="(http[^"]+\/reports\/invite\/[^"]+)"/.exec(res.text)![1];
      await supertest(bare.app).get(new URL(link).pathname).expect(200);
    } finally {
      await bare.close();
    }
  });
});
