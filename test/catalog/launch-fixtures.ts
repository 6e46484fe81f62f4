/**
 * Helpers for the launch tests: course structures written as cmi5.xml and imported through the
 * real importer, and an AU-side xAPI client that talks to /xapi with its launch token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { CATEGORY_CMI5, CATEGORY_MOVEON, EXT, VERB, type VerbName } from '../../server/plugins/catalog/launch/cmi5';
import { csrfFrom } from '../helpers';

export const CMI5_NS = 'https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd';

export type XNode =
  { au: string; moveOn: string; masteryScore?: number; url?: string; launchParameters?: string } | { block: string; children: XNode[] };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const text = (tag: string, s: string) =>
  `<${tag}><langstring lang="es">${esc(s)}</langstring><langstring lang="en">${esc(s)} (en)</langstring></${tag}>`;

function nodeXml(n: XNode): string {
  if ('block' in n)
    return `<block id="${esc(n.block)}">${text('title', 'Módulo ' + n.block.split('/').pop())}${text('description', 'Módulo')}${n.children.map(nodeXml).join('')}</block>`;
  const attrs = [
    `id="${esc(n.au)}"`,
    `moveOn="${n.moveOn}"`,
    ...(n.masteryScore !== undefined ? [`masteryScore="${n.masteryScore}"`] : []),
  ];
  const params = n.launchParameters ? `<launchParameters>${esc(n.launchParameters)}</launchParameters>` : '';
  return `<au ${attrs.join(' ')}>${text('title', 'Actividad ' + n.au.split('/').pop())}${text('description', 'Actividad')}<url>${esc(n.url ?? 'https://au.example.org/player/index.html?lesson=' + encodeURIComponent(n.au.split('/').pop()!))}</url>${params}</au>`;
}

export function cmi5Xml(courseId: string, title: string, nodes: XNode[], meta = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<courseStructure xmlns="${CMI5_NS}"><course id="${esc(courseId)}">${text('title', title)}${text('description', title)}${meta}</course>${nodes.map(nodeXml).join('')}</courseStructure>\n`;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'catalog-launch-'));
let n = 0;

/** Imports a standalone cmi5.xml through the catalog's importer and (by default) publishes it. */
export async function importXml(lms: LmsApp, xml: string, publish = true): Promise<string> {
  const file = path.join(tmp, `cmi5-${++n}.xml`);
  writeFileSync(file, xml);
  const courses = lms.services.get('catalog.courses');
  const { courseId } = await courses.importPackage({ filePath: file, originalName: 'cmi5.xml' });
  if (publish) await courses.setPublished(courseId, true);
  return courseId;
}

export interface Launched {
  location: URL;
  params: { endpoint: string; fetch: string; actor: Record<string, unknown>; registration: string; activityId: string };
}

/** Opens the course page as the learner and presses the launch button of `auId`. */
export async function launchAu(agent: TestAgent, courseId: string, auId: string, launchMode?: string): Promise<Launched> {
  const page = await agent.get(`/catalog/course?id=${encodeURIComponent(courseId)}`).expect(200);
  const registration = /name="registration" value="([^"]+)"/.exec(page.text)?.[1];
  expect(registration, 'course page has a launch form').to.be.a('string');
  const res = await agent
    .post('/catalog/launch')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), registration, auId, ...(launchMode ? { launchMode } : {}) });
  expect(res.status, res.text).to.equal(303);
  const location = new URL(res.headers.location);
  const q = location.searchParams;
  return {
    location,
    params: {
      endpoint: q.get('endpoint')!,
      fetch: q.get('fetch')!,
      actor: JSON.parse(q.get('actor')!),
      registration: q.get('registration')!,
      activityId: q.get('activityId')!,
    },
  };
}

/** The AU's side of a session: fetch the token once, read LaunchData, send statements. */
export class AuClient {
  token = '';
  launchData: Record<string, unknown> = {};
  constructor(
    private readonly lms: LmsApp,
    readonly launch: Launched,
    readonly auId: string,
  ) {}

  private path(url: string) {
    return new URL(url).pathname + new URL(url).search;
  }

  async start(): Promise<this> {
    const r = await supertest(this.lms.app).post(this.path(this.launch.params.fetch)).expect(200);
    this.token = r.body['auth-token'];
    expect(this.token, JSON.stringify(r.body)).to.be.a('string');
    const q = new URLSearchParams({
      activityId: this.launch.params.activityId,
      agent: JSON.stringify(this.launch.params.actor),
      registration: this.launch.params.registration,
      stateId: 'LMS.LaunchData',
    });
    const s = await this.xapi('get', `/xapi/activities/state?${q}`).expect(200);
    this.launchData = s.body;
    // An AU reads the learner preferences on startup, before "initialized" (§11.0).
    const prefs = new URLSearchParams({ agent: JSON.stringify(this.launch.params.actor), profileId: 'cmi5LearnerPreferences' });
    await this.xapi('get', `/xapi/agents/profile?${prefs}`).expect(200);
    return this;
  }

  xapi(method: 'get' | 'post' | 'put', p: string) {
    return supertest(this.lms.app)[method](p).set('Authorization', `Basic ${this.token}`).set('X-Experience-API-Version', '1.0.3');
  }

  get sessionId(): string {
    return (this.launchData.contextTemplate as { extensions: Record<string, string> }).extensions[EXT.sessionId];
  }

  statement(verb: VerbName, result?: Record<string, unknown>, over: Record<string, unknown> = {}) {
    const moveOn = !!result && ('success' in result || 'completion' in result);
    // A score judged against the masteryScore carries it (§9.6.3.2).
    const judged =
      (verb === 'passed' || verb === 'failed') &&
      typeof (result?.score as { scaled?: unknown } | undefined)?.scaled === 'number' &&
      this.launchData.masteryScore !== undefined;
    const tpl = this.launchData.contextTemplate as { contextActivities: { grouping: unknown[] }; extensions: Record<string, unknown> };
    return {
      id: crypto.randomUUID(),
      actor: this.launch.params.actor,
      verb: { id: VERB[verb], display: { 'en-US': verb } },
      object: { id: this.launch.params.activityId, objectType: 'Activity' },
      ...(result ? { result } : {}),
      context: {
        registration: this.launch.params.registration,
        contextActivities: {
          grouping: tpl.contextActivities.grouping,
          category: [{ id: CATEGORY_CMI5 }, ...(moveOn ? [{ id: CATEGORY_MOVEON }] : [])],
        },
        extensions: { ...tpl.extensions, ...(judged ? { [EXT.masteryScore]: this.launchData.masteryScore } : {}) },
      },
      timestamp: new Date().toISOString(),
      ...over,
    };
  }

  /** Sends statements; returns the HTTP status. */
  async send(...statements: Array<Record<string, unknown>>): Promise<{ status: number; body: unknown }> {
    const r = await this.xapi('post', '/xapi/statements').send(statements);
    return { status: r.status, body: r.body };
  }
}
