import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import { ROOT } from '../../server/core/config';
import { testDbUri } from '../helpers';
import { testRun } from '../setup';
import { basic, buildWorld, findEverywhere, privacyApp, traces, type World } from './fixtures';

const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

describe('privacy: an erasure killed mid-way (SIGKILL) is completed by running it again', function () {
  this.timeout(240_000);
  let w: World;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    w = await buildWorld(await privacyApp());
    // Enough statements that the LRS step takes a while: the kill lands inside the erasure.
    const batch = Array.from({ length: 400 }, (_, i) => ({
      actor: { objectType: 'Agent', mbox: `mailto:${w.ana.email}` },
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
      object: { id: `https://events.example.org/pagina/${i}`, objectType: 'Activity' },
    }));
    await supertest(w.lms.app)
      .post('/xapi/statements')
      .set('Authorization', basic(w.client))
      .set('X-Experience-API-Version', '1.0.3')
      .send(batch)
      .expect(200);
    const c = w.lms.config;
    env = {
      ...process.env,
      MONGODB_URI: testDbUri(),
      DB_NAME: c.dbName,
      DATA_DIR: testRun.dataDir,
      BASE_URL: c.baseUrl,
      SESSION_SECRET: c.sessionSecret,
      CONTENT_LIBRARY: 'off',
      LOG_LEVEL: 'silent',
    };
  });
  after(() => w.lms.close());

  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(TSX, ['server/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('kills the CLI erasure half-way, then `privacy:erase --erasure ID` finishes it and nothing of her is left', async () => {
    const erasures = w.lms.db.db!.collection('privacy_erasures');
    // One process (tsx's loader inside node, not the tsx wrapper, whose child would outlive the kill).
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'privacy:erase', '--user', w.ana.email], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const begun = async () => ((await erasures.findOne({}))?.steps as string[] | undefined)?.includes('catalog');
    for (let i = 0; i < 3000 && !(await begun()); i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    const record = await erasures.findOne({});
    expect(record, 'the erasure had begun').to.not.equal(null);
    expect(record!.status, 'killed before it finished').to.equal('running');
    expect(record!.steps).to.include('catalog').and.not.include('accounts');

    const list = await cli('privacy:erase', '--list');
    expect(list.stdout, list.stderr).to.contain(String(record!._id)).and.contain(w.ana.email);
    const again = await cli('privacy:erase', '--erasure', String(record!._id));
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout.trim()).to.equal(`erasure ${String(record!._id)}: done`);
    expect(await findEverywhere(w.lms, traces(w.ana))).to.deep.equal([]);
    const pseudonym = { account: { homePage: w.lms.config.baseUrl, name: record!.pseudonym } };
    const res = await supertest(w.lms.app)
      .get(`/xapi/statements?agent=${encodeURIComponent(JSON.stringify(pseudonym))}&limit=500`)
      .set('Authorization', basic(w.client))
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    expect(res.body.statements.length, 'every statement of hers, under the one pseudonym').to.be.greaterThan(400);
  });
});
