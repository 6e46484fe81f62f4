import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import { resolvePlugins, type Plugin } from '../../server/core/plugin';
import { ROOT } from '../../server/core/config';
import { accountsPlugin } from '../../server/plugins/accounts';
import { testApp } from '../helpers';

const plugin = (name: string, dependencies: string[] = [], extra: Partial<Plugin> = {}): Plugin => ({
  manifest: { name, version: '1.0.0', core: 1, dependencies, personalData: false },
  register: async () => {},
  ...extra,
});

describe('core: plugin loading', () => {
  it('orders plugins after their dependencies', () => {
    const order = resolvePlugins([plugin('reports', ['catalog']), plugin('catalog', ['lrs']), plugin('lrs')]).map((p) => p.manifest.name);
    expect(order).to.deep.equal(['lrs', 'catalog', 'reports']);
  });

  it('enables only the plugins PLUGINS names', () => {
    const order = resolvePlugins([plugin('a'), plugin('b'), plugin('c', ['a'])], ['c', 'a']).map((p) => p.manifest.name);
    expect(order).to.deep.equal(['a', 'c']);
  });

  it('refuses a missing, disabled or unknown dependency and cycles, naming the plugin', () => {
    expect(() => resolvePlugins([plugin('catalog', ['lrs'])])).to.throw(/"catalog" depends on "lrs", which does not exist/);
    expect(() => resolvePlugins([plugin('catalog', ['lrs']), plugin('lrs')], ['catalog'])).to.throw(
      /"catalog" depends on "lrs", which is not enabled/,
    );
    expect(() => resolvePlugins([plugin('a')], ['nope'])).to.throw(/unknown plugin "nope"/);
    expect(() => resolvePlugins([plugin('a', ['b']), plugin('b', ['a'])])).to.throw(/cycle: a → b → a/);
  });

  it('refuses a plugin written for another core version', () => {
    const old = plugin('old');
    old.manifest.core = 0;
    expect(() => resolvePlugins([old])).to.throw(/"old" was written for core 0/);
  });

  it('stops start-up with a message naming a plugin that fails to register', async () => {
    const broken = plugin('broken', [], {
      register: async () => {
        throw new Error('template missing');
      },
    });
    let error: Error | undefined;
    try {
      await testApp({ plugins: [accountsPlugin, broken] });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.equal('Plugin "broken" failed to load: template missing');
  });

  it("mounts a plugin's router at its prefix and gives it the services of its dependencies", async () => {
    let seen: unknown;
    const probe = plugin('probe', ['accounts'], {
      register: async (ctx) => {
        seen = ctx.services.get('accounts.users');
        ctx.router.get('/ping', (_req, res) => {
          res.json({ pong: ctx.name });
        });
      },
    });
    const lms = await testApp({ plugins: [accountsPlugin, probe] });
    try {
      expect(seen).to.have.property('login');
      const res = await supertest(lms.app).get('/probe/ping').expect(200);
      expect(res.body).to.deep.equal({ pong: 'probe' });
    } finally {
      await lms.close();
    }
  });

  it('refuses to start a plugin that does not say what personal data it keeps, naming it', async () => {
    const silent: Plugin = { manifest: { name: 'silent', version: '1.0.0', core: 1 }, register: async () => {} };
    const liar = plugin('liar', [], {
      register: async (ctx) => ctx.declarePersonalData({ holds: [], export: async () => {}, erase: async () => {} }),
    });
    for (const [p, message] of [
      [silent, 'Plugin "silent" failed to load: it must declare the personal data it keeps'],
      [liar, 'Plugin "liar" failed to load: its manifest says personalData: false, yet it declared personal data'],
    ] as const) {
      let error: Error | undefined;
      await testApp({ plugins: [accountsPlugin, p] }).then(
        (lms) => lms.close(),
        (err: Error) => (error = err),
      );
      expect(error?.message).to.include(message);
    }
  });

  it('gives other plugins the accounts only through its contract in the core (never the concrete service)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
      );
    const plugins = path.join(ROOT, 'server', 'plugins');
    const contract = readFileSync(path.join(ROOT, 'server', 'core', 'contracts', 'accounts.ts'), 'utf8');
    expect(contract).to.match(/'accounts\.users': AccountsUsers/);
    for (const f of files(plugins)) {
      const text = readFileSync(f, 'utf8');
      // The service type others get is declared in the core, not by the plugin…
      expect(text, f).not.to.match(/'accounts\.users':/);
      // … and no other plugin names the concrete class.
      if (!f.startsWith(path.join(plugins, 'accounts') + path.sep)) expect(text, f).not.to.include('UsersService');
    }
  });
});
