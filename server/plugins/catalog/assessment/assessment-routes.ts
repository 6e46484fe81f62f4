import express, { type Request, type Response, type Router } from 'express';
import type { LrsCredential, LrsCredentials } from '../../../core/contracts/lrs';
import type { AssessmentService } from './assessment.service';

/**
 * `POST /catalog/api/assessment/attempts` (draw) and `POST /catalog/api/assessment/attempts/:id` (score),
 * called by assessment pages from their sandboxed origin with the AU session's launch credential
 * (HTTP Basic, as for the LRS): CORS for any origin, no cookies involved.
 */
export function mountAssessmentRoutes(root: Router, assessments: AssessmentService, credentials: () => LrsCredentials): void {
  const cors = (res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Cache-Control', 'no-store');
  };
  const credential = async (req: Request): Promise<LrsCredential | undefined> => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    const pair = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const i = pair.indexOf(':');
    return i > 0 ? credentials().authenticate(pair.slice(0, i), pair.slice(i + 1)) : undefined;
  };
  const json = express.json({ limit: '64kb' });
  for (const path of ['/catalog/api/assessment/attempts', '/catalog/api/assessment/attempts/:id'])
    root.options(path, (_req, res) => {
      cors(res);
      res.status(204).end();
    });
  root.post(
    '/catalog/api/assessment/attempts',
    (_req, res, next) => (cors(res), next()),
    json,
    async (req, res) => {
      res.status(201).json(await assessments.draw(await credential(req)));
    },
  );
  root.post(
    '/catalog/api/assessment/attempts/:id',
    (_req, res, next) => (cors(res), next()),
    json,
    async (req, res) => {
      res.status(200).json(await assessments.score(await credential(req), String(req.params.id), req.body));
    },
  );
}
