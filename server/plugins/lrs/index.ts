import { createHash } from 'node:crypto';
import express from 'express';
import type { Plugin } from '../../core/plugin';
import { mountRoutes } from '../../core/routes';
import type { LrsDocuments, LrsStatements } from '../../core/contracts/lrs';
import { ActivitiesService } from './activities.service';
import { activityModel } from './activity.model';
import { credentialModel } from './credential.model';
import { CredentialsService } from './credentials.service';
import { documentModel } from './document.model';
import { DocumentsService } from './documents.service';
import { collapseSlashes, cors, prepare } from './http/pipeline';
import { lrsCommands } from './commands';
import { lrsPersonalData } from './personal-data';
import { adminRoutes, xapiRoutes } from './routes';
import { attachmentModel, statementBodyModel, statementModel } from './statement.model';
import { StatementsService } from './statements.service';
import { actor, ifiKey } from './validate/actor';
import { iri } from './validate/primitives';

const DEFAULT_BODY_LIMIT = 20 * 1024 * 1024;

export const lrsPlugin: Plugin = {
  manifest: {
    name: 'lrs',
    version: '1.0.0',
    core: 1,
    description: 'xAPI 1.0.3 and 2.0 Learning Record Store at /xapi, with its credentials',
    prefix: '/xapi',
    // The LRS reads its own bodies (size limit, multipart/mixed) and uses Basic auth, not sessions.
    forms: false,
    permissions: {
      'lrs:manage': { roles: ['admin'], description: 'create and revoke LRS clients' },
    },
    events: {
      checks: {
        'lrs.statements.validate': 'a batch of statements before it is stored; a veto rejects the whole batch',
        'lrs.document.validate': 'a state or profile document write through HTTP',
      },
      emits: {
        'lrs.statements.stored': {
          description: 'a batch of new statements is stored (not for idempotent re-posts)',
          // The batch's statement ids: a client retrying the same batch records it once.
          key: (p) =>
            createHash('sha256')
              .update(p.stored.map((s) => s.id.toLowerCase()).join(','))
              .digest('hex')
              .slice(0, 40),
          // One AU session's batches are followed up in the order they were stored (cmi5 rules).
          group: (p) => p.credential.launch?.registration,
        },
      },
    },
  },

  async register(ctx) {
    const models = [
      statementModel(ctx.db),
      statementBodyModel(ctx.db),
      attachmentModel(ctx.db),
      activityModel(ctx.db),
      documentModel(ctx.db),
      credentialModel(ctx.db),
    ];
    await Promise.all(models.map((m) => m.init()));
    const credentials = new CredentialsService(credentialModel(ctx.db), ctx.config.baseUrl);
    const activities = new ActivitiesService(activityModel(ctx.db));
    const statements = new StatementsService(
      statementModel(ctx.db),
      statementBodyModel(ctx.db),
      attachmentModel(ctx.db),
      ctx.hooks,
      activities,
    );
    const documents = new DocumentsService(documentModel(ctx.db));
    // A batch recorded but whose process died before or while storing it: follow up only what is there.
    ctx.hooks.recover('lrs.statements.stored', (p) => statements.storedOf(p));

    const system = credentials.system();
    const lrsStatements: LrsStatements = {
      async storeAsSystem(list, opts) {
        const fresh = opts?.once ? await statements.notStored(list) : list;
        if (fresh.length) await statements.store(fresh, { credential: system, family: '2.0' });
        return list.map((s) => s.id as string);
      },
    };
    const agentKey = (a: Record<string, unknown>) => ifiKey(actor(a, 'agent'))!;
    const lrsDocuments: LrsDocuments = {
      async putState({ activityId, agent, stateId, registration, body }) {
        const scope = {
          kind: 'state' as const,
          activityId: iri(activityId, 'activityId'),
          agent: agentKey(agent),
          registration: registration?.toLowerCase(),
        };
        await documents.put(scope, stateId, Buffer.from(JSON.stringify(body)), 'application/json', {});
      },
      async getState({ activityId, agent, stateId, registration }) {
        const doc = await documents.get(
          { kind: 'state', activityId, agent: agentKey(agent), registration: registration?.toLowerCase() },
          stateId,
        );
        return doc ? (JSON.parse(doc.content.toString('utf8')) as unknown) : undefined;
      },
      async putAgentProfile({ agent, profileId, body }) {
        await documents.put(
          { kind: 'agentProfile', agent: agentKey(agent) },
          profileId,
          Buffer.from(JSON.stringify(body)),
          'application/json',
          {},
        );
      },
    };
    ctx.services.provide('lrs', 'lrs.statements', lrsStatements);
    ctx.services.provide('lrs', 'lrs.documents', lrsDocuments);
    ctx.services.provide('lrs', 'lrs.credentials', credentials);
    ctx.declarePersonalData(
      lrsPersonalData(
        {
          statements: statementModel(ctx.db),
          bodies: statementBodyModel(ctx.db),
          attachments: attachmentModel(ctx.db),
          documents: documentModel(ctx.db),
        },
        credentials,
      ),
    );

    const limit = Number(ctx.config.env.LRS_BODY_LIMIT ?? DEFAULT_BODY_LIMIT);
    if (!Number.isInteger(limit) || limit <= 0) throw new Error('LRS_BODY_LIMIT must be a positive number of bytes');
    const defaultVersion = ctx.config.env.LRS_DEFAULT_VERSION ?? '2.0.0';
    if (!['1.0.3', '2.0.0'].includes(defaultVersion)) throw new Error('LRS_DEFAULT_VERSION must be 1.0.3 or 2.0.0');
    const xapiRouter = express.Router();
    xapiRouter.use(collapseSlashes(), cors(), prepare({ credentials, bodyLimit: limit, needsAuth: (p) => p !== '/about', defaultVersion }));
    mountRoutes(xapiRouter, ctx.permissions, xapiRoutes({ statements, documents, activities, hooks: ctx.hooks }));
    ctx.router.use(xapiRouter);

    mountRoutes(ctx.root, ctx.permissions, adminRoutes(credentials, ctx.forms));
    ctx.nav({ href: '/lrs/admin/clients', label: 'lrs:nav.clients', permission: 'lrs:manage', order: 80 });

    ctx.jobs.every({
      name: 'lrs.launch-tokens-purge',
      intervalVar: 'LRS_TOKEN_PURGE_INTERVAL',
      defaultInterval: '1h',
      run: () => credentials.purgeExpired(),
    });
  },

  commands: lrsCommands,
};
