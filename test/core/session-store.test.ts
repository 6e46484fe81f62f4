import { expect } from 'chai';
import type { SessionData } from 'express-session';
import { SessionStore } from '../../server/core/session-store';
import { testApp } from '../helpers';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';

const call = <T>(fn: (cb: (err: unknown, v?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

describe('core: session store', () => {
  let lms: LmsApp;
  let store: SessionStore;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin] });
    store = new SessionStore({
      client: lms.db.getClient() as never,
      dbName: lms.config.dbName,
      collectionName: 'core_sessions',
      autoRemove: 'disabled',
    });
  });
  after(async () => {
    await store.close();
    await lms.close();
  });

  const session = (expires: Date) => ({ cookie: { expires, originalMaxAge: 1000 }, passport: { user: 'u1' } }) as unknown as SessionData;

  it('returns a live session by id and nothing for an expired or unknown one', async () => {
    await call((cb) => store.set('live', session(new Date(Date.now() + 60_000)), cb));
    await call((cb) => store.set('old', session(new Date(Date.now() - 60_000)), cb));
    const live = await call<SessionData | null>((cb) => store.get('live', cb));
    expect((live as unknown as { passport: { user: string } }).passport.user).to.equal('u1');
    expect(await call((cb) => store.get('old', cb))).to.equal(null);
    expect(await call((cb) => store.get('unknown', cb))).to.equal(null);
  });
});
