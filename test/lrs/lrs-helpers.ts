import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';

/** An xAPI client for one LRS credential: every request carries Basic auth and the version header. */
export async function xapiClient(lms: LmsApp, scopes: string[] = ['all'], version = '1.0.3') {
  const { key, secret } = await lms.services.get('lrs.credentials').createClient({ name: `test ${scopes.join(' ')}`, scopes });
  const auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  const req = supertest(lms.app);
  const h = (t: supertest.Test) => t.set('Authorization', auth).set('X-Experience-API-Version', version);
  return {
    key,
    auth,
    get: (url: string) => h(req.get(url)),
    head: (url: string) => h(req.head(url)),
    put: (url: string) => h(req.put(url)),
    post: (url: string) => h(req.post(url)),
    delete: (url: string) => h(req.delete(url)),
  };
}

export function statement(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    actor: { objectType: 'Agent', name: 'Lucía', mbox: 'mailto:lucia@example.org' },
    verb: { id: 'http://adlnet.gov/expapi/verbs/completed', display: { 'es-ES': 'completó', 'en-US': 'completed' } },
    object: { objectType: 'Activity', id: 'http://example.org/course/1', definition: { name: { es: 'Curso 1' } } },
    ...over,
  };
}

export const agentParam = (mbox: string) => encodeURIComponent(JSON.stringify({ mbox }));
export { randomUUID };
