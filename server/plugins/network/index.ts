import path from 'node:path';
import type { Plugin } from '../../core/plugin';
import { mountRoutes } from '../../core/routes';
import { parseDuration } from '../../core/jobs';
import '../../core/contracts/catalog';
import '../../core/contracts/indicators';
import '../../core/contracts/region';
import { FederatedCatalog } from './federated';
import { buildIndicators } from './indicators';
import { networkModels, type IndicatorSet } from './network.model';
import { Observatory } from './observatory';
import { Peers } from './peers';
import { Publisher } from './publisher';
import { Push } from './push';
import { Region } from './region';
import { parseHubs, pushToHubs } from './indicator-push';
import { backfillSummaries, storeIndicatorSet } from './summaries';
import { networkRoutes } from './routes';
import { loadSigningKey } from './signing';

/** An integer ≥ min from the environment, or start-up stops naming the variable. */
function int(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min} (got "${raw}")`);
  return n;
}

export const networkPlugin: Plugin = {
  manifest: {
    name: 'network',
    version: '1.0.0',
    core: 1,
    description:
      'Regional network: signed course feeds (JSON, OAI-PMH), subscriptions to peers and one-click import; the observatory of indicators',
    // Alone with accounts it is a hub; with the catalog it shares courses, with reports it publishes indicators.
    dependencies: ['accounts'],
    permissions: {
      'network:manage': { roles: ['admin'], description: 'publish courses to the network, subscribe to peers and import their courses' },
    },
    // Course metadata, package hashes and aggregated, suppressed counts only: nothing about people.
    personalData: false,
  },

  async register(ctx) {
    const env = ctx.config.env;
    const m = networkModels(ctx.db);
    await Promise.all([
      m.published.init(),
      m.peers.init(),
      m.remote.init(),
      m.indicators.init(),
      m.summaries.init(),
      m.summaryRows.init(),
      m.state.init(),
      m.subscribers.init(),
      m.hubPushes.init(),
    ]);
    await backfillSummaries(m);
    const key = await loadSigningKey(ctx.config.dataDir, env.NETWORK_KEY_FILE || undefined);
    const country = (env.NETWORK_COUNTRY ?? '').trim().toUpperCase();
    if (country && !/^[A-Z]{3}$/.test(country))
      throw new Error(`NETWORK_COUNTRY must be an ISO 3166-1 alpha-3 code such as PER (got "${env.NETWORK_COUNTRY}")`);
    const identity = {
      publisher: (env.NETWORK_PUBLISHER ?? '').trim() || new URL(ctx.config.baseUrl).host,
      country,
      origin: ctx.config.baseUrl,
    };
    const tmpDir = path.join(ctx.config.dataDir, 'network', 'tmp');
    const publisher = new Publisher(m, () => ctx.services.get('catalog.exchange'), key, identity, tmpDir);
    const maxPackageMb = int(env, 'CATALOG_MAX_PACKAGE_MB', 500, 1);
    const peers = new Peers(m, ctx.log, tmpDir, maxPackageMb * 1024 * 1024);
    const k = int(env, 'NETWORK_SUPPRESSION_K', 5, 2);
    const hubs = parseHubs(env.NETWORK_HUBS);
    const months = int(env, 'NETWORK_INDICATOR_MONTHS', 12, 1);

    /** Computes, signs and keeps this instance's indicator set (with reports and a country only). */
    const publishIndicators = async () => {
      if (!ctx.services.has('reports.indicators') || !country) return undefined;
      const { payload, jws } = await buildIndicators(ctx.services.get('reports.indicators'), identity, key, { k, months });
      const doc: IndicatorSet = {
        _id: 'self',
        country,
        publisher: identity.publisher,
        generatedAt: new Date(payload.generatedAt),
        jws: jws as unknown as Record<string, unknown>,
        payload: payload as unknown as Record<string, unknown>,
        verifiedAt: new Date(),
      };
      await storeIndicatorSet(m, doc);
      // Hubs that take pushes get it at once (they also pull it on their own schedule).
      if (hubs.length) await pushToHubs(m, hubs, jws, doc.generatedAt, ctx.log);
      return jws;
    };
    const ownIndicators = async () => {
      if (!ctx.services.has('reports.indicators') || !country) return undefined;
      const doc = await m.indicators.findById('self').lean<IndicatorSet>();
      return doc ? doc.jws : publishIndicators();
    };

    // "Your country vs the region" on the reports dashboard (from the hub it pushes to, or its own).
    const keep = env.NETWORK_REGION_CACHE ? parseDuration(env.NETWORK_REGION_CACHE) : 10 * 60_000;
    if (keep === undefined) throw new Error(`NETWORK_REGION_CACHE must be a duration such as 10m (got "${env.NETWORK_REGION_CACHE}")`);
    const region = new Region(m, hubs, ctx.log, keep);
    ctx.services.provide('network', 'network.region', { compare: () => region.compare() });

    ctx.jobs.every({
      name: 'network.sync',
      intervalVar: 'NETWORK_SYNC_INTERVAL',
      defaultInterval: '1h',
      firstRunAfter: '1m',
      run: () => peers.syncAll(),
    });
    ctx.jobs.every({
      name: 'network.indicators',
      intervalVar: 'NETWORK_INDICATORS_INTERVAL',
      defaultInterval: '24h',
      firstRunAfter: '1m',
      run: publishIndicators,
    });

    const { routes, rootRoutes } = networkRoutes({
      m,
      key,
      publisher,
      peers,
      push: new Push(m, peers, ctx.log, ctx.config.baseUrl),
      federated: new FederatedCatalog(m),
      observatory: new Observatory(m),
      services: ctx.services,
      baseUrl: ctx.config.baseUrl,
      hubs,
      ownIndicators,
      syncNow: () => peers.syncAll(),
    });
    mountRoutes(ctx.router, ctx.permissions, routes);
    mountRoutes(ctx.root, ctx.permissions, rootRoutes);
    ctx.nav({ href: '/network/observatory', label: 'network:nav.observatory', order: 80 });
    ctx.nav({ href: '/network/catalog', label: 'network:nav.catalog', permission: 'network:manage', order: 81 });
    ctx.nav({ href: '/network/admin', label: 'network:nav.admin', permission: 'network:manage', order: 82 });
  },
};
