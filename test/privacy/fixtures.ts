/**
 * A whole server with two institutions, people who really took a course (cmi5 launch, LRS
 * statements, progress, certificates) and roster rows, for the personal-data tests.
 */
import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import type { Plugin } from '../../server/core/plugin';
import { allPlugins } from '../../server/plugins';
import { AuClient, cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { binaryParser, makeUser, signIn, testApp } from '../helpers';
import { HEADER, importRoster, seedOrg } from '../reports/fixtures';

export const COURSE = 'https://courses.example.org/proteccion-datos';
export const AU = `${COURSE}/au/leer`;

export type Person = Awaited<ReturnType<typeof makeUser>>;

export interface World {
  lms: LmsApp;
  admin: Person;
  /** The person whose data is exported and erased (INST-A). */
  ana: Person;
  /** A second person of the same institution, and one of another. */
  bruno: Person;
  carla: Person;
  hrB: Person;
  client: { key: string; secret: string };
  anaSession: TestAgent;
}

export function privacyApp(env: Record<string, string> = {}, plugins: Plugin[] = allPlugins) {
  return testApp({ plugins, env: { CONTENT_LIBRARY: 'off', ...env } });
}

/**
 * A plugin whose erase step fails once. Registered after the LRS and before the catalog, its step
 * runs after the catalog's and before the LRS's: the first attempt stops half-way, with progress
 * already under the pseudonym and statements still naming the person.
 */
export function flaky(): Plugin & { failures: number } {
  const p = {
    failures: 1,
    manifest: { name: 'flaky', version: '1.0.0', core: 1, dependencies: ['lrs'] },
    async register(ctx: Parameters<Plugin['register']>[0]) {
      ctx.declarePersonalData({
        holds: [],
        export: async () => {},
        erase: async () => {
          if (p.failures-- > 0) throw new Error('disk full');
        },
      });
    },
  };
  return p;
}

/** The learner opens their path, launches the course's one AU and completes it. */
export async function takeCourse(lms: LmsApp, agent: TestAgent): Promise<void> {
  await agent.get('/catalog/my-path').expect(200);
  const au = await new AuClient(lms, await launchAu(agent, COURSE, AU), AU).start();
  const r = await au.send(
    au.statement('initialized'),
    au.statement('completed', { completion: true, duration: 'PT5M' }),
    au.statement('terminated', { duration: 'PT6M' }),
  );
  if (r.status !== 200) throw new Error(`statements refused: ${r.status} ${JSON.stringify(r.body)}`);
}

export const basic = (c: { key: string; secret: string }) => `Basic ${Buffer.from(`${c.key}:${c.secret}`).toString('base64')}`;

export async function buildWorld(lms: LmsApp): Promise<World> {
  await seedOrg(lms);
  await importXml(lms, cmi5Xml(COURSE, 'Protección de datos', [{ au: AU, moveOn: 'Completed' }]));
  await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [COURSE] });
  const admin = await makeUser(lms, { role: 'admin', name: 'Admin Nacional' });
  const hrB = await makeUser(lms, { role: 'hr', name: 'Officer Municipio', orgUnit: 'INST-B' });
  const ana = await makeUser(lms, {
    name: 'Zuleika Quispe-Export',
    email: 'zuleika.quispe@inst-a.example',
    tier: 'all',
    level: 'national',
  });
  const bruno = await makeUser(lms, { name: 'Bruno Segundo', email: 'bruno.segundo@inst-a.example', tier: 'all', level: 'national' });
  const carla = await makeUser(lms, { name: 'Carla Tercera', email: 'carla.tercera@inst-b.example', tier: 'all', level: 'local' });
  await importRoster(
    lms,
    'INST-A',
    [
      HEADER,
      `A-0071,${ana.name},${ana.email},A1,national,all,Analista,no,yes`,
      `A-0072,${bruno.name},${bruno.email},A2,national,all,Jefe,no,yes`,
    ].join('\n'),
  );
  await importRoster(lms, 'INST-B', [HEADER, `B-0001,${carla.name},${carla.email},B1,local,all,Asistente,no,yes`].join('\n'));
  const anaSession = await signIn(lms, ana.email, ana.password);
  await takeCourse(lms, anaSession);
  await takeCourse(lms, await signIn(lms, bruno.email, bruno.password));
  await takeCourse(lms, await signIn(lms, carla.email, carla.password));
  await lms.events.settled();
  await lms.services.get('reports.internal').recompute.idle();

  // A third-party tool identifies Ana by her e-mail, and names her as Bruno's instructor.
  const client = await lms.services.get('lrs.credentials').createClient({ name: 'Herramienta externa', scopes: ['all'] });
  const statements = [
    {
      actor: { objectType: 'Agent', name: ana.name, mbox: `mailto:${ana.email}` },
      verb: { id: 'http://adlnet.gov/expapi/verbs/attended', display: { 'en-US': 'attended' } },
      object: { id: 'https://events.example.org/taller-lgpd', objectType: 'Activity' },
      result: { extensions: { 'https://events.example.org/ext/room': 'Sala 3' } },
    },
    {
      actor: { objectType: 'Agent', name: bruno.name, mbox: `mailto:${bruno.email}` },
      verb: { id: 'http://adlnet.gov/expapi/verbs/attended', display: { 'en-US': 'attended' } },
      object: { id: 'https://events.example.org/taller-lgpd', objectType: 'Activity' },
      context: { instructor: { objectType: 'Agent', name: ana.name, mbox: `mailto:${ana.email}` } },
    },
  ];
  await supertest(lms.app)
    .post('/xapi/statements')
    .set('Authorization', basic(client))
    .set('X-Experience-API-Version', '1.0.3')
    .send(statements)
    .expect(200);
  return { lms, admin, ana, bruno, carla, hrB, client, anaSession };
}

/** The archive as `name → content`. */
export async function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

export async function download(agent: TestAgent, url: string) {
  const res = await agent.get(url).buffer(true).parse(binaryParser);
  return res;
}

/** Every identifier of a person that must not survive their erasure anywhere. */
export function traces(p: Person): string[] {
  const mbox = `mailto:${p.email}`;
  return [p.id, p.email, p.name, createHash('sha1').update(mbox).digest('hex')];
}

/** Binary fields (document contents, PDFs) as text, so what they contain is searched too. */
function readable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(readable);
  if (v && typeof v === 'object') {
    if ((v as { _bsontype?: string })._bsontype === 'Binary') return Buffer.from((v as { buffer: Uint8Array }).buffer).toString('latin1');
    if (v instanceof Date || (v as { _bsontype?: string })._bsontype) return String(v);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, readable(x)]));
  }
  return v;
}

/** Every document of every collection of the app's database, as text, where one of `needles` occurs. */
export async function findEverywhere(lms: LmsApp, needles: string[]): Promise<string[]> {
  const db = lms.db.db!;
  const hits: string[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    for await (const doc of db.collection(name).find({})) {
      const text = JSON.stringify(readable(doc));
      for (const n of needles) if (text.toLowerCase().includes(n.toLowerCase())) hits.push(`${name}: ${n} in ${text.slice(0, 300)}`);
    }
  }
  return hits;
}
