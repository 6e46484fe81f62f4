/* global Buffer, URLSearchParams */
/* eslint-disable @typescript-eslint/no-require-imports -- CATAPULT's jest loads this adapter with require(): it is CommonJS */
/**
 * Adapter of ADL's CATAPULT LMS test suite (github adlnet/CATAPULT, lts/) for this server: the
 * interface of CATAPULT's lts/lib/lms.template.js, implemented with nothing but this server's
 * public HTTP pages and the xAPI endpoint, as an outside integrator would. Steps to run it are in
 * conformance/README.md.
 *
 * - importCourse: an admin uploads the package (POST /catalog/admin/courses) and publishes it;
 *   a rejected package (4xx naming the rule) is CATAPULT's InvalidPackageError.
 * - getLaunchUrl: each CATAPULT actor is a learner of ours (created by the admin, one per actor
 *   and run); the learner enrols and launches (POST /catalog/launch, with launchMode when the
 *   suite asks for one). The launch URL carries our own actor for that learner.
 * - waiveAU: the admin waives the AU (POST /catalog/waive with reason, comment and confirmation, §9.3.7).
 * - abandonSession: the learner launches the same AU again, which abandons the open session
 *   (§9.3.6): that is how a session is abandoned on this server.
 * - cleanup: nothing; courses are never deleted here (registrations keep their version) and an
 *   identical re-import changes nothing.
 */
'use strict';

const http = require('http');
const https = require('https');
const path = require('path');
const { randomBytes } = require('crypto');
// The suite's own error class: its tests check `instanceof` (jest runs in CATAPULT's lts/ folder).
const { InvalidPackageError } = require(path.join(process.cwd(), 'lib', 'errors'));

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name} in lts/.env (see conformance/README.md)`);
  return v;
};

/** Unescapes what EJS escaped in an attribute value. */
const unescape = (s) =>
  s
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** A signed-in browser without the browser: cookies, the CSRF token of the session, redirects by hand. */
class Session {
  constructor(base) {
    this.base = base;
    this.cookies = new Map();
    this.csrf = '';
  }

  /** One request with Node's own http client (jest's environment has no fetch). */
  async request(method, url, { form, multipart, json } = {}) {
    const headers = { Accept: json === false ? 'text/html' : 'application/json' };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body = Buffer.alloc(0);
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = Buffer.from(new URLSearchParams({ _csrf: this.csrf, ...form }).toString());
    } else if (multipart) {
      const boundary = `----lts${randomBytes(12).toString('hex')}`;
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      const parts = [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${this.csrf}\r\n`)];
      for (const [name, f] of Object.entries(multipart)) {
        parts.push(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
          ),
          f.data,
          Buffer.from('\r\n'),
        );
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`));
      body = Buffer.concat(parts);
    }
    headers['Content-Length'] = String(body.length);
    const target = new URL(this.base + url);
    const res = await new Promise((resolve, reject) => {
      const req = (target.protocol === 'https:' ? https : http).request(target, { method, headers }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString('utf8') }));
        r.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    for (const c of res.headers['set-cookie'] ?? []) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.text);
    if (m) this.csrf = m[1];
    return { status: res.status, location: res.headers.location, text: res.text };
  }

  async page(url) {
    const r = await this.request('GET', url, { json: false });
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
    return r.text;
  }

  async signIn(email, password) {
    await this.page('/accounts/login');
    const r = await this.request('POST', '/accounts/login', { form: { email, password }, json: false });
    if (r.status !== 303) throw new Error(`sign-in of ${email} failed (${r.status}); is LOGIN_RATE_LIMIT high enough?`);
    await this.page('/catalog/my-path'); // a page of the new session, for its CSRF token
  }
}

const fail = (what, r) => {
  let msg = r.text;
  try {
    msg = JSON.parse(r.text).error.message;
  } catch {
    /* an HTML page: keep the text */
  }
  return new Error(`${what}: ${r.status} ${String(msg).slice(0, 300)}`);
};

let base, admin, runId, lrsAuth;
/** CATAPULT actor name → our learner { email, session }. */
const learners = new Map();
/** registration → { learner, courseId }; session id → { learner, registration, auId }. */
const registrations = new Map();
const sessions = new Map();

async function learnerFor(name) {
  if (learners.has(name)) return learners.get(name);
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const email = `lts-${runId}-${slug}@example.org`;
  const password = randomBytes(12).toString('base64url');
  const r = await admin.request('POST', '/accounts/admin/users', {
    form: { email, name: `CATAPULT ${name}`, role: 'learner', password, language: 'en' },
    json: false,
  });
  if (r.status !== 303) throw fail(`creating learner ${email}`, r);
  const session = new Session(base);
  await session.signIn(email, password);
  const learner = { email, session };
  learners.set(name, learner);
  return learner;
}

/** The learner's registration of a course (enrolling first) and the AU ids in course-structure order. */
async function coursePage(learner, courseId) {
  const url = `/catalog/course?id=${encodeURIComponent(courseId)}`;
  let html = await learner.session.page(url);
  if (!/name="registration"/.test(html)) {
    const r = await learner.session.request('POST', '/catalog/enrol', { form: { courseId }, json: false });
    if (r.status !== 303) throw fail(`enrolling in ${courseId}`, r);
    html = await learner.session.page(url);
  }
  const registration = unescape(/name="registration" value="([^"]+)"/.exec(html)[1]);
  const aus = [...html.matchAll(/name="auId" value="([^"]+)"/g)].map((m) => unescape(m[1]));
  return { registration, aus };
}

async function launch(learner, registration, auId, launchMode) {
  const r = await learner.session.request('POST', '/catalog/launch', {
    form: { registration, auId, ...(launchMode ? { launchMode } : {}) },
  });
  if (r.status !== 200) throw fail(`launching ${auId}`, r);
  return JSON.parse(r.text);
}

module.exports = {
  setup: async () => {
    base = need('LMS_URL').replace(/\/+$/, '');
    lrsAuth = `Basic ${Buffer.from(`${need('LRS_KEY')}:${need('LRS_SECRET')}`).toString('base64')}`;
    runId = randomBytes(4).toString('hex');
    admin = new Session(base);
    await admin.signIn(need('LMS_ADMIN_EMAIL'), need('LMS_ADMIN_PASSWORD'));
  },

  teardown: async () => {},

  getLrsEndpoint: () => `${base}/xapi`,

  getLrsAuthHeader: () => lrsAuth,

  importCourse: async (stream, contentType, filename) => {
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    await admin.page('/catalog/admin/courses');
    const r = await admin.request('POST', '/catalog/admin/courses', {
      multipart: { package: { data: Buffer.concat(chunks), type: contentType, name: filename } },
    });
    // 4xx with the rule is a rejected package; anything else (401, 403, 5xx) is a failure of the run.
    if ([400, 413, 415, 422].includes(r.status)) throw new InvalidPackageError(`${filename}: ${fail('rejected', r).message}`);
    if (r.status !== 200 && r.status !== 201) throw fail(`importing ${filename}`, r);
    const { courseId } = JSON.parse(r.text);
    const p = await admin.request('POST', '/catalog/admin/course/publish', { form: { id: courseId, published: '1' }, json: false });
    if (p.status >= 400) throw fail(`publishing ${courseId}`, p);
    return courseId;
  },

  getLaunchUrl: async (courseId, auIndex, actor, { registration, launchMode } = {}) => {
    const known = registration && registrations.get(registration);
    if (registration && !known) throw new Error(`registration ${registration} was not made by this run`);
    const learner = known ? known.learner : await learnerFor(actor.account.name);
    const page = await coursePage(learner, courseId);
    const auId = page.aus[auIndex];
    if (!auId) throw new Error(`course ${courseId} has no AU #${auIndex}`);
    const r = await launch(learner, page.registration, auId, launchMode);
    registrations.set(page.registration, { learner, courseId });
    sessions.set(r.sessionId, { learner, registration: page.registration, auId });
    return r.url;
  },

  cleanup: async () => {},

  hasWaive: () => true,

  waiveAU: async (registration, auIndex, reason) => {
    const known = registrations.get(registration);
    if (!known) throw new Error(`registration ${registration} was not made by this run`);
    const { aus } = await coursePage(known.learner, known.courseId);
    await admin.page('/catalog/people');
    // As an officer does on the person's page: the suite's reason, a comment saying why, and the
    // explicit confirmation the form requires.
    const form = { registration, auId: aus[auIndex], reason, comment: `CATAPULT waiver test (${reason})`, confirm: '1' };
    const r = await admin.request('POST', '/catalog/waive', { form });
    if (r.status !== 200) throw fail(`waiving AU #${auIndex}`, r);
  },

  hasAbandon: () => true,

  abandonSession: async (sessionId) => {
    const s = sessions.get(sessionId);
    if (!s) throw new Error(`session ${sessionId} was not launched by this run`);
    const r = await launch(s.learner, s.registration, s.auId);
    sessions.set(r.sessionId, s);
  },
};
