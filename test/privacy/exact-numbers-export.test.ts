import { expect } from 'chai';
import supertest from 'supertest';
import { makeUser, signIn } from '../helpers';
import { basic, download, privacyApp, unzip } from './fixtures';

/** A person's export holds their xAPI documents with every number as the AU stored it. */
describe('privacy: exported xAPI documents keep their numbers exactly', function () {
  this.timeout(60_000);

  it('writes 12345678901234567890, 1.0000000000000001, 2.50 and 1e400 as sent (PUT and POST merge), and a non-JSON body as base64', async () => {
    const lms = await privacyApp();
    try {
      const ana = await makeUser(lms, { role: 'learner' });
      const client = await lms.services.get('lrs.credentials').createClient({ name: 'au', scopes: ['all'] });
      const where = {
        activityId: 'https://courses.example.org/numeros/au',
        agent: JSON.stringify({ objectType: 'Agent', mbox: `mailto:${ana.email}` }),
        registration: 'a1b2c3d4-0000-4000-8000-000000000001',
      };
      const doc = (stateId: string, method: 'put' | 'post', body: string, type = 'application/json') =>
        supertest(lms.app)
          [method](`/xapi/activities/state?${new URLSearchParams({ ...where, stateId })}`)
          .set('Authorization', basic(client))
          .set('X-Experience-API-Version', '1.0.3')
          .set('Content-Type', type)
          .send(body)
          .expect(204);
      await doc('big', 'put', '{"id":12345678901234567890,"tiny":1.0000000000000001}');
      await doc('merged', 'put', '{"score":2.50}');
      await doc('merged', 'post', '{"huge":1e400}');
      await doc('text', 'put', 'texto plano', 'text/plain');

      const files = await unzip((await download(await signIn(lms, ana.email, ana.password), '/privacy/export.zip')).body as Buffer);
      const text = files.get('lrs/documents.json')!.toString('utf8');
      expect(text).to.include('"id": 12345678901234567890').and.include('"tiny": 1.0000000000000001');
      expect(text).to.include('"score": 2.50').and.include('"huge": 1e400');
      const listed = JSON.parse(text) as Array<{ id: string; base64?: string; updated: string }>;
      expect(listed.map((d) => d.id).sort()).to.deep.equal(['big', 'merged', 'text']);
      expect(Buffer.from(listed.find((d) => d.id === 'text')!.base64!, 'base64').toString()).to.equal('texto plano');
      expect(new Date(listed[0].updated).getTime()).to.be.above(0);
    } finally {
      await lms.close();
    }
  });
});
