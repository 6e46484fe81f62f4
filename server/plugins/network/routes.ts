import { createReadStream } from 'node:fs';
import express from 'express';
import type { Request, Response } from 'express';
import type { CatalogExchange } from '../../core/contracts/catalog';
import { writeCsv } from '../../core/csv';
import { HttpError, errorText, localizedError } from '../../core/errors';
import type { Route } from '../../core/routes';
import type { ServiceRegistry } from '../../core/services';
import type { FederatedCatalog } from './federated';
import type { HubPush, NetworkModels } from './network.model';
import { oaiResponse } from './oai-pmh';
import { Observatory, type Selection } from './observatory';
import type { Peers } from './peers';
import type { Publisher } from './publisher';
import type { Push } from './push';
import type { SigningKey } from './signing';
import { exportSets, pageCountries } from './summaries';
import { writeJsonExport } from './json-export';
import { receiveIndicators } from './indicator-push';
import { TOTAL } from './suppression';

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const wantsJson = (req: Request) => req.accepts(['html', 'json']) === 'json';

export interface NetworkDeps {
  m: NetworkModels;
  key: SigningKey;
  publisher: Publisher;
  peers: Peers;
  push: Push;
  federated: FederatedCatalog;
  observatory: Observatory;
  services: ServiceRegistry;
  baseUrl: string;
  /** NETWORK_HUBS: where this instance pushes its indicator sets. */
  hubs: string[];
  /** This instance's own indicator set, computed when first asked for. */
  ownIndicators: () => Promise<unknown | undefined>;
  syncNow: () => Promise<unknown>;
}

export function networkRoutes(d: NetworkDeps): { routes: Route[]; rootRoutes: Route[] } {
  const catalog = (): CatalogExchange => {
    if (!d.services.has('catalog.exchange')) {
      throw new HttpError(404, 'This instance has no course catalogue (the catalog plugin is not enabled)', {
        key: 'network:errors.noCatalog',
      });
    }
    return d.services.get('catalog.exchange');
  };
  const hasCatalog = () => d.services.has('catalog.exchange');
  const oaiUrl = `${d.baseUrl}/network/oai`;

  const oai = async (req: Request, res: Response) => {
    const params = req.method === 'POST' ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
    const xml = await oaiResponse(params ?? {}, {
      baseUrl: oaiUrl,
      identity: d.publisher.identity,
      courses: () => d.publisher.list(),
      packageUrl: (c) => `${d.baseUrl}/network/${c.package}`,
    });
    res.type('text/xml; charset=utf-8').send(xml);
  };

  const admin = async (req: Request, res: Response) => {
    const [published, peers, pushes] = await Promise.all([
      d.publisher.list(),
      d.peers.list(),
      d.m.hubPushes.find({ _id: { $in: d.hubs } }).lean<HubPush[]>(),
    ]);
    const pushOf = new Map(pushes.map((p) => [p._id, p]));
    const byId = new Map(published.map((p) => [p.id, p]));
    const courses = hasCatalog() ? await catalog().courses() : [];
    res.setHeader('Cache-Control', 'no-store');
    res.render('network/admin', {
      title: req.t('network:admin.title'),
      thumbprint: d.key.thumbprint,
      keysUrl: `${d.baseUrl}/.well-known/network-jwks.json`,
      feedUrl: `${d.baseUrl}/network/feed.json`,
      oaiUrl,
      identity: d.publisher.identity,
      hasCatalog: hasCatalog(),
      courses: courses.map((c) => ({ course: c, published: byId.get(c.id) })),
      peers,
      // Every configured hub, with its last push when there was one.
      hubPushes: d.hubs.map((hub) => ({ hub, push: pushOf.get(hub) })),
      done: str(req.query.done),
    });
  };

  const back = (req: Request, res: Response, done: string, json: unknown, to = '/network/admin') => {
    if (wantsJson(req)) return res.json(json);
    res.redirect(303, `${to}${to.includes('?') ? '&' : '?'}done=${done}`);
  };

  const federatedPage = async (req: Request, res: Response, status = 200, error?: string) => {
    const search = {
      q: str(req.query.q).slice(0, 200),
      lang: str(req.query.lang).slice(0, 20),
      tier: str(req.query.tier).slice(0, 100),
      license: str(req.query.license).slice(0, 100),
      page: Number(req.query.page) || 1,
    };
    const result = await d.federated.search(search);
    // What this instance already has of each course: offered as an update when the origin moved on.
    const local = new Map((hasCatalog() ? await catalog().courses() : []).map((c) => [c.id, c]));
    const rows = result.courses.map((c) => {
      const mine = local.get(c.id);
      const status = !mine
        ? 'new'
        : mine.provenance?.origin !== c.origin
          ? 'local'
          : mine.provenance.originVersion < c.version
            ? 'update'
            : 'installed';
      return { course: c, status, localVersion: mine?.provenance?.originVersion };
    });
    if (wantsJson(req)) return res.json({ ...result, courses: rows.map((r) => ({ ...r.course, status: r.status })) });
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('network/catalog', {
      title: req.t('network:catalog.title'),
      search,
      result,
      rows,
      hasCatalog: hasCatalog(),
      done: str(req.query.done),
      error,
    });
  };

  const selection = (req: Request): Selection => ({
    level: str(req.query.level) || TOTAL,
    tier: str(req.query.tier) || TOTAL,
    dm: ['yes', 'no'].includes(str(req.query.dm)) ? str(req.query.dm) : TOTAL,
    month: /^\d{4}-\d{2}$/.test(str(req.query.month)) ? str(req.query.month) : undefined,
  });

  const observatoryPage = async (req: Request, res: Response) => {
    await d.ownIndicators();
    const sel = selection(req);
    // Summaries and the one compared row per country (summaries.ts), not the whole signed sets.
    const countries = await pageCountries(d.m, sel);
    const comparison = Observatory.compare(countries, sel);
    res.render('network/observatory', {
      title: req.t('network:obs.title'),
      sel,
      options: Observatory.summaryOptions(countries),
      comparison,
      region: Observatory.region(comparison),
      trend: Observatory.trend(countries, sel),
      countries,
    });
  };

  // Streamed (summaries.ts exportSets): the first line goes out before the last set is read.
  const exportFile = (kind: 'csv' | 'sdmx' | 'json') => async (_req: Request, res: Response) => {
    await d.ownIndicators();
    const sets = await exportSets(d.m);
    const day = new Date().toISOString().slice(0, 10);
    if (kind === 'json') {
      res.type('application/json; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="observatory-${day}.json"`);
      return writeJsonExport(sets, res);
    }
    res.type('text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="observatory-${day}${kind === 'sdmx' ? '.sdmx' : ''}.csv"`);
    await writeCsv(
      kind === 'sdmx'
        ? { columns: Observatory.sdmxColumns, rows: Observatory.sdmxRows(sets) }
        : { columns: Observatory.csvColumns, rows: Observatory.csvRows(sets) },
      res,
    );
  };

  const routes: Route[] = [
    // Public: what peers and harvesters read.
    { method: 'get', path: '/feed.json', guard: 'public', handler: async (_req, res) => void res.json(await d.publisher.feed()) },
    {
      method: 'get',
      path: '/packages/:file',
      guard: 'public',
      handler: async (req, res) => {
        const m = /^([a-f0-9]{64})\.zip$/.exec(String(req.params.file));
        if (!m) throw new HttpError(404, 'No such package', { key: 'core:errors.404.body' });
        const pkg = await d.publisher.package(m[1]);
        res.type('application/zip');
        res.setHeader('Content-Length', String(pkg.size));
        res.setHeader('Content-Disposition', `attachment; filename="${m[1]}.zip"`);
        const body = createReadStream(pkg.file);
        body.pipe(res);
        res.on('close', () => void pkg.done());
      },
    },
    { method: 'get', path: '/oai', guard: 'public', handler: oai },
    { method: 'post', path: '/oai', guard: 'public', handler: oai },
    {
      method: 'get',
      path: '/indicators.json',
      guard: 'public',
      handler: async (_req, res) => {
        const jws = await d.ownIndicators();
        if (!jws) throw localizedError(404, 'network:errors.noIndicators');
        res.json(jws);
      },
    },
    { method: 'get', path: '/observatory', guard: 'public', handler: observatoryPage },
    { method: 'get', path: '/observatory/data.csv', guard: 'public', handler: exportFile('csv') },
    { method: 'get', path: '/observatory/data.sdmx.csv', guard: 'public', handler: exportFile('sdmx') },
    { method: 'get', path: '/observatory/data.json', guard: 'public', handler: exportFile('json') },

    // Administrators: publishing, peers, the federated catalogue.
    { method: 'get', path: '/admin', guard: 'network:manage', handler: admin },
    {
      method: 'post',
      path: '/admin/publish',
      guard: 'network:manage',
      handler: async (req, res) => {
        const courseId = str(req.body?.courseId);
        if (!courseId) throw new HttpError(400, 'courseId is required');
        const p = await d.publisher.publish(courseId, str(req.body?.license) || undefined);
        // Subscribers that asked are told at once (they pull and verify the feed themselves).
        const push = await d.push.notifyAll();
        back(req, res, 'published', { published: p, push });
      },
    },
    {
      method: 'post',
      path: '/admin/unpublish',
      guard: 'network:manage',
      handler: async (req, res) => {
        await d.publisher.unpublish(str(req.body?.courseId));
        back(req, res, 'unpublished', { unpublished: str(req.body?.courseId) });
      },
    },
    {
      method: 'post',
      path: '/admin/peers',
      guard: 'network:manage',
      handler: async (req, res) => {
        const peer = await d.peers.add(str(req.body?.url), str(req.body?.thumbprint));
        // A first pull at once; a failure is shown on the page, the subscription stays. Then ask
        // the peer to notify us of changes (one that does not is still pulled by network.sync).
        await d.peers.syncAll();
        const push = await d.push.subscribeTo(peer._id);
        back(req, res, 'peerAdded', { peer: await d.peers.get(peer._id), push });
      },
    },
    {
      method: 'post',
      path: '/admin/peers/remove',
      guard: 'network:manage',
      handler: async (req, res) => {
        await d.peers.remove(str(req.body?.url));
        back(req, res, 'peerRemoved', { removed: str(req.body?.url) });
      },
    },
    {
      method: 'post',
      path: '/admin/sync',
      guard: 'network:manage',
      handler: async (req, res) => {
        const r = await d.syncNow();
        back(req, res, 'synced', r);
      },
    },
    { method: 'get', path: '/catalog', guard: 'network:manage', handler: (req, res) => federatedPage(req, res) },
    {
      method: 'post',
      path: '/catalog/import',
      guard: 'network:manage',
      handler: async (req, res) => {
        try {
          const r = await d.peers.importCourse(catalog(), str(req.body?.peer), str(req.body?.courseId), req.user?.id);
          back(req, res, r.alreadyInstalled ? 'unchanged' : 'imported', r, '/network/catalog');
        } catch (err) {
          // A refused package (a broken rule, a changed file) is said on the page it was imported
          // from, in the reader's language, with its 4xx; API clients get the error as is.
          if (!(err instanceof HttpError) || err.status >= 500 || wantsJson(req)) throw err;
          await federatedPage(req, res, err.status, errorText(req.t, err));
        }
      },
    },
  ];
  // Instance to instance, no session: small JSON bodies, outside the plugin's form router (no CSRF
  // token can exist). Neither carries anything trusted (push.ts).
  const notice = express.json({ limit: '4kb' });
  const rootRoutes: Route[] = [
    {
      method: 'post',
      path: '/network/subscribers',
      guard: 'public',
      handler: [
        notice,
        async (req: Request, res: Response) => {
          const url = await d.push.register(str((req.body as Record<string, unknown> | undefined)?.url));
          res.status(201).json({ subscribed: url });
        },
      ],
    },
    {
      method: 'post',
      path: '/network/notify',
      guard: 'public',
      handler: [
        notice,
        async (req: Request, res: Response) => {
          await d.push.notified(str((req.body as Record<string, unknown> | undefined)?.peer));
          res.status(202).json({ pulled: true });
        },
      ],
    },
    {
      // A country pushing its signed indicator set (indicator-push.ts): trusted only once verified.
      method: 'post',
      path: '/network/indicators',
      guard: 'public',
      handler: [
        express.json({ limit: '20mb' }),
        async (req: Request, res: Response) => void res.status(201).json(await receiveIndicators(d.m, req.body)),
      ],
    },
    {
      method: 'get',
      path: '/.well-known/network-jwks.json',
      guard: 'public',
      handler: (_req, res) => {
        res.setHeader('Cache-Control', 'public, max-age=300');
        res.json({ keys: [d.key.publicJwk] });
      },
    },
  ];
  return { routes, rootRoutes };
}
