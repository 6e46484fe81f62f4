/**
 * OAI-PMH 2.0 data provider for the published courses, so learning-object repositories and
 * national catalogues harvest them: Identify, ListMetadataFormats, ListSets, ListIdentifiers,
 * ListRecords and GetRecord, in Dublin Core (`oai_dc`) and IEEE LOM (`lom`, the IEEE 1484.12.3
 * XML binding). Each course is an item identified by its course IRI; its datestamp is when its
 * current version was published. Errors are OAI-PMH errors (HTTP 200, as the protocol says).
 */
import type { Published } from './network.model';
import type { Identity } from './publisher';

const OAI_NS = 'http://www.openarchives.org/OAI/2.0/';
const SCHEMA = 'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd';
const PAGE = 100;

export const FORMATS = {
  oai_dc: {
    schema: 'http://www.openarchives.org/OAI/2.0/oai_dc.xsd',
    namespace: 'http://www.openarchives.org/OAI/2.0/oai_dc/',
  },
  lom: {
    schema: 'http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd',
    namespace: 'http://ltsc.ieee.org/xsd/LOM',
  },
} as const;
type Prefix = keyof typeof FORMATS;

const VERBS: Record<string, { required: string[]; optional: string[]; exclusive?: string }> = {
  Identify: { required: [], optional: [] },
  ListMetadataFormats: { required: [], optional: ['identifier'] },
  ListSets: { required: [], optional: [], exclusive: 'resumptionToken' },
  GetRecord: { required: ['identifier', 'metadataPrefix'], optional: [] },
  ListIdentifiers: { required: ['metadataPrefix'], optional: ['from', 'until', 'set'], exclusive: 'resumptionToken' },
  ListRecords: { required: ['metadataPrefix'], optional: ['from', 'until', 'set'], exclusive: 'resumptionToken' },
};

export const esc = (s: unknown) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // Characters XML 1.0 cannot carry at all.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');

const utc = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

class OaiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`; `until` dates include their whole day. */
function parseDate(v: string, name: string, end: boolean): { at: Date; granularity: 'day' | 'second' } {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const sec = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v);
  const at = new Date(day ? `${v}T00:00:00Z` : v);
  if ((!day && !sec) || Number.isNaN(at.getTime())) throw new OaiError('badArgument', `${name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ`);
  if (day && end) at.setTime(at.getTime() + 86_400_000 - 1);
  return { at, granularity: day ? 'day' : 'second' };
}

interface ListArgs {
  metadataPrefix: Prefix;
  from?: string;
  until?: string;
  offset: number;
}

const encodeToken = (a: ListArgs) => Buffer.from(JSON.stringify(a)).toString('base64url');
function decodeToken(t: string): ListArgs {
  try {
    const a = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as ListArgs;
    if (!(a.metadataPrefix in FORMATS) || !Number.isInteger(a.offset) || a.offset < 0) throw new Error();
    return a;
  } catch {
    throw new OaiError('badResumptionToken', 'The resumptionToken is not one this repository issued');
  }
}

export interface OaiContext {
  /** The endpoint's own URL (`BASE_URL/network/oai`). */
  baseUrl: string;
  identity: Identity;
  courses: () => Promise<Published[]>;
  /** Absolute URL of a published package. */
  packageUrl: (c: Published) => string;
  now?: Date;
}

/** Answers one OAI-PMH request (query or form parameters) with the XML response. */
export async function oaiResponse(params: Record<string, unknown>, ctx: OaiContext): Promise<string> {
  const now = ctx.now ?? new Date();
  const verb = typeof params.verb === 'string' ? params.verb : '';
  const args: Record<string, string> = {};
  let repeated = false;
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) repeated = true;
    else if (typeof v === 'string') args[k] = v;
  }
  // The request element echoes only valid arguments (none for badVerb/badArgument).
  const request = (attrs: Record<string, string>) =>
    `<request${Object.entries(attrs)
      .map(([k, v]) => ` ${k}="${esc(v)}"`)
      .join('')}>${esc(ctx.baseUrl)}</request>`;
  const envelope = (attrs: Record<string, string>, body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="${OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${OAI_NS} ${SCHEMA}">\n` +
    `<responseDate>${utc(now)}</responseDate>\n${request(attrs)}\n${body}\n</OAI-PMH>\n`;
  const error = (e: OaiError, attrs: Record<string, string>) => envelope(attrs, `<error code="${e.code}">${esc(e.message)}</error>`);

  const spec = VERBS[verb];
  if (!spec) return error(new OaiError('badVerb', verb ? `Unknown verb ${verb}` : 'The verb argument is missing'), {});
  try {
    if (repeated) throw new OaiError('badArgument', 'An argument is repeated');
    const given = Object.keys(args).filter((k) => k !== 'verb');
    if (spec.exclusive && args[spec.exclusive] !== undefined) {
      if (given.length > 1) throw new OaiError('badArgument', `${spec.exclusive} is an exclusive argument`);
    } else {
      const unknown = given.filter((k) => !spec.required.includes(k) && !spec.optional.includes(k));
      if (unknown.length) throw new OaiError('badArgument', `Illegal argument(s): ${unknown.join(', ')}`);
      const missing = spec.required.filter((k) => !args[k]);
      if (missing.length) throw new OaiError('badArgument', `Missing argument(s): ${missing.join(', ')}`);
    }
    const body = await answer(verb, args, ctx, now);
    return envelope(args, body);
  } catch (err) {
    if (err instanceof OaiError) return error(err, err.code === 'badArgument' ? {} : args);
    throw err;
  }
}

async function answer(verb: string, args: Record<string, string>, ctx: OaiContext, now: Date): Promise<string> {
  const courses = await ctx.courses();
  if (verb === 'Identify') {
    const earliest = courses.map((c) => c.publishedAt).sort()[0] ?? utc(now);
    return (
      `<Identify><repositoryName>${esc(ctx.identity.publisher)}</repositoryName><baseURL>${esc(ctx.baseUrl)}</baseURL>` +
      `<protocolVersion>2.0</protocolVersion><adminEmail>${esc(adminEmail(ctx.baseUrl))}</adminEmail>` +
      `<earliestDatestamp>${esc(earliest)}</earliestDatestamp><deletedRecord>no</deletedRecord>` +
      `<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>`
    );
  }
  if (verb === 'ListMetadataFormats') {
    if (args.identifier && !courses.some((c) => c.id === args.identifier))
      throw new OaiError('idDoesNotExist', `No item ${args.identifier}`);
    return `<ListMetadataFormats>${Object.entries(FORMATS)
      .map(
        ([p, f]) =>
          `<metadataFormat><metadataPrefix>${p}</metadataPrefix><schema>${f.schema}</schema><metadataNamespace>${f.namespace}</metadataNamespace></metadataFormat>`,
      )
      .join('')}</ListMetadataFormats>`;
  }
  if (verb === 'ListSets') {
    if (args.resumptionToken) throw new OaiError('badResumptionToken', 'This repository issues no resumption tokens for sets');
    throw new OaiError('noSetHierarchy', 'This repository does not support sets');
  }
  if (verb === 'GetRecord') {
    const prefix = checkPrefix(args.metadataPrefix);
    const c = courses.find((x) => x.id === args.identifier);
    if (!c) throw new OaiError('idDoesNotExist', `No item ${args.identifier}`);
    return `<GetRecord>${record(c, prefix, ctx)}</GetRecord>`;
  }
  // ListIdentifiers, ListRecords
  let list: ListArgs;
  if (args.resumptionToken) list = decodeToken(args.resumptionToken);
  else {
    if (args.set) throw new OaiError('noSetHierarchy', 'This repository does not support sets');
    list = { metadataPrefix: checkPrefix(args.metadataPrefix), from: args.from, until: args.until, offset: 0 };
  }
  const from = list.from ? parseDate(list.from, 'from', false) : undefined;
  const until = list.until ? parseDate(list.until, 'until', true) : undefined;
  if (from && until && from.granularity !== until.granularity)
    throw new OaiError('badArgument', 'from and until must have the same granularity');
  if (from && until && from.at > until.at) throw new OaiError('badArgument', 'from is later than until');
  const matching = courses.filter((c) => {
    const at = new Date(c.publishedAt);
    return (!from || at >= from.at) && (!until || at <= until.at);
  });
  if (list.offset > 0 && list.offset >= matching.length)
    throw new OaiError('badResumptionToken', 'The resumptionToken is past the end of the list');
  if (!matching.length) throw new OaiError('noRecordsMatch', 'No course matches these arguments');
  const page = matching.slice(list.offset, list.offset + PAGE);
  const next = list.offset + PAGE < matching.length ? encodeToken({ ...list, offset: list.offset + PAGE }) : '';
  const token =
    matching.length > PAGE
      ? `<resumptionToken completeListSize="${matching.length}" cursor="${list.offset}">${next}</resumptionToken>`
      : '';
  const tag = verb;
  const items = page.map((c) => (verb === 'ListRecords' ? record(c, list.metadataPrefix, ctx) : header(c))).join('');
  return `<${tag}>${items}${token}</${tag}>`;
}

function checkPrefix(p: string | undefined): Prefix {
  if (!p || !(p in FORMATS)) throw new OaiError('cannotDisseminateFormat', `metadataPrefix ${p ?? ''} is not supported (oai_dc, lom)`);
  return p as Prefix;
}

const adminEmail = (baseUrl: string) => `admin@${new URL(baseUrl).hostname.replace(/^\[|\]$/g, '') || 'localhost'}`;

const header = (c: Published) => `<header><identifier>${esc(c.id)}</identifier><datestamp>${esc(c.publishedAt)}</datestamp></header>`;

function record(c: Published, prefix: Prefix, ctx: OaiContext): string {
  return `<record>${header(c)}<metadata>${prefix === 'oai_dc' ? dublinCore(c, ctx) : lom(c, ctx)}</metadata></record>`;
}

function dublinCore(c: Published, ctx: OaiContext): string {
  const el = (name: string, v: string, lang?: string) => `<dc:${name}${lang ? ` xml:lang="${esc(lang)}"` : ''}>${esc(v)}</dc:${name}>`;
  return (
    `<oai_dc:dc xmlns:oai_dc="${FORMATS.oai_dc.namespace}" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${FORMATS.oai_dc.namespace} ${FORMATS.oai_dc.schema}">` +
    Object.entries(c.title)
      .map(([l, v]) => el('title', v, l))
      .join('') +
    el('creator', ctx.identity.publisher) +
    c.topics.map((t) => el('subject', t)).join('') +
    Object.entries(c.description)
      .map(([l, v]) => el('description', v, l))
      .join('') +
    el('publisher', ctx.identity.publisher) +
    el('date', c.publishedAt.slice(0, 10)) +
    el('type', 'InteractiveResource') +
    el('format', 'application/zip') +
    el('identifier', c.id) +
    el('identifier', ctx.packageUrl(c)) +
    c.languages.map((l) => el('language', l)).join('') +
    el('rights', c.license) +
    `</oai_dc:dc>`
  );
}

/** IEEE LOM (1484.12.1) in its XML binding: general, lifeCycle, technical, educational, rights. */
function lom(c: Published, ctx: OaiContext): string {
  const str = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([l, v]) => `<string language="${esc(l)}">${esc(v)}</string>`)
      .join('');
  const vocab = (v: string) => `<source>LOMv1.0</source><value>${esc(v)}</value>`;
  const minutes = Math.round(c.hours * 60);
  return (
    `<lom xmlns="${FORMATS.lom.namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${FORMATS.lom.namespace} ${FORMATS.lom.schema}">` +
    `<general><identifier><catalog>URI</catalog><entry>${esc(c.id)}</entry></identifier><title>${str(c.title)}</title>` +
    c.languages.map((l) => `<language>${esc(l)}</language>`).join('') +
    `<description>${str(c.description)}</description>` +
    c.topics.map((t) => `<keyword><string language="en">${esc(t)}</string></keyword>`).join('') +
    `<structure>${vocab('hierarchical')}</structure><aggregationLevel>${vocab('3')}</aggregationLevel></general>` +
    `<lifeCycle><version><string language="en">${c.version}</string></version><status>${vocab('final')}</status>` +
    `<contribute><role>${vocab('publisher')}</role><entity>${esc(`BEGIN:VCARD\nVERSION:3.0\nFN:${ctx.identity.publisher}\nORG:${ctx.identity.publisher}\nEND:VCARD`)}</entity>` +
    `<date><dateTime>${esc(c.publishedAt)}</dateTime></date></contribute></lifeCycle>` +
    `<technical><format>application/zip</format><size>${c.size}</size><location>${esc(ctx.packageUrl(c))}</location></technical>` +
    `<educational><interactivityType>${vocab('mixed')}</interactivityType><intendedEndUserRole>${vocab('learner')}</intendedEndUserRole>` +
    `<context>${vocab('training')}</context><typicalLearningTime><duration>PT${Math.floor(minutes / 60)}H${minutes % 60}M</duration></typicalLearningTime>` +
    c.languages.map((l) => `<language>${esc(l)}</language>`).join('') +
    `</educational>` +
    `<rights><cost>${vocab('no')}</cost><copyrightAndOtherRestrictions>${vocab('yes')}</copyrightAndOtherRestrictions>` +
    `<description><string language="en">${esc(c.license)}</string></description></rights>` +
    `</lom>`
  );
}
