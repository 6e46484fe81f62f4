import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import { HttpError, errorText, localizedError } from '../../../core/errors';
import type { Route } from '../../../core/routes';
import type { Logger } from '../../../core/log';
import { safeNext } from '../../../core/safe-next';
import { pageNumber } from '../../../core/page-number';
import type { Identity } from './identity';
import { labelOf, type Provider } from './providers';
import type { VerifiedIdentity } from './linking';
import type { OidcPending } from './oidc';
import type { SamlSession, SloMessage } from './saml';

/** The identity provider session, kept to end it on sign-out. */
export type SsoSession = { provider: string; idToken?: string; saml?: SamlSession };

declare module 'express-session' {
  interface SessionData {
    oidc?: OidcPending & { at: number };
    sso?: SsoSession;
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

const PROTOCOL_NAMES = { oidc: 'OpenID Connect', saml: 'SAML 2.0', ldap: 'LDAP' } as const;

/** 404 for an address of one protocol under a provider of another (e.g. an LDAP provider's SAML metadata). */
const wrongProtocol = (p: Provider, protocol: keyof typeof PROTOCOL_NAMES) =>
  localizedError(404, 'accounts:identity.wrongProtocol', { id: p.id, protocol: PROTOCOL_NAMES[protocol] });

/** A refused or failed sign-in: the sign-in page, with the reason in the person's language. */
const refuser = (id: Identity) => async (req: Request, res: Response, status: number, key: string) =>
  void res.status(status).render('accounts/login', {
    title: req.t('accounts:login.title'),
    error: req.t(key),
    next: '/',
    email: '',
    providers: await id.providersFor(req),
    recovery: id.recovery.available,
  });

/** Links the verified identity and opens a new session (its id rotated, as for a password sign-in). */
const completer =
  (id: Identity, log: Logger) =>
  async (req: Request, res: Response, next: NextFunction, p: Provider, who: VerifiedIdentity, sso: SsoSession, to: unknown) => {
    const out = await id.linker.resolve(p, who);
    if (!out.ok) {
      log.info({ provider: p.id, reason: out.reason }, 'identity provider sign-in refused');
      return refuser(id)(req, res, 403, `accounts:identity.refused.${out.reason}`);
    }
    // passport ≥0.6 regenerates the session on login: nothing of the pre-login session survives.
    req.logIn(out.user, (err) => {
      if (err) return next(err);
      req.session.sso = sso;
      res.redirect(303, safeNext(to));
    });
  };

export function identityRoutes(id: Identity, log: Logger, loginLimiter: RateLimitRequestHandler): Route[] {
  const refuse = refuser(id);
  const complete = completer(id, log);

  const failed = (req: Request, res: Response, p: Provider, err: unknown) => {
    log.warn({ provider: p.id, err: (err as Error).message }, 'identity provider sign-in failed');
    return refuse(req, res, 401, 'accounts:identity.failed');
  };

  const start = async (req: Request, res: Response) => {
    const p = await id.providers.enabled(String(req.params.id));
    const to = safeNext(req.query.next);
    if (p.protocol === 'oidc') {
      const { url, pending } = await id.oidc.start(p, id.oidcRedirectUri(p), to);
      req.session.oidc = { ...pending, at: Date.now() };
      return res.redirect(303, url);
    }
    if (p.protocol === 'saml') return res.redirect(303, await id.saml.start(p, to));
    res.render('accounts/identity-ldap', {
      title: labelOf(p, req.lang),
      provider: p,
      label: labelOf(p, req.lang),
      next: to,
      error: undefined,
      username: '',
    });
  };

  const oidcCallback = async (req: Request, res: Response, next: NextFunction) => {
    const p = await id.providers.enabled(String(req.params.id));
    if (p.protocol !== 'oidc') throw wrongProtocol(p, 'oidc');
    const pending = req.session.oidc;
    delete req.session.oidc;
    if (!pending || pending.provider !== p.id || Date.now() - pending.at > id.signInTtlMs)
      return failed(req, res, p, new Error('no pending sign-in'));
    let result;
    try {
      const current = new URL(id.oidcRedirectUri(p));
      current.search = new URL(req.originalUrl, 'http://x').search;
      result = await id.oidc.finish(p, current, pending);
    } catch (err) {
      return failed(req, res, p, err);
    }
    await complete(req, res, next, p, result.identity, { provider: p.id, idToken: result.idToken }, pending.next);
  };

  const ldapSignIn = async (req: Request, res: Response, next: NextFunction) => {
    const p = await id.providers.enabled(String(req.params.id));
    if (p.protocol !== 'ldap') throw wrongProtocol(p, 'ldap');
    const render = (status: number, key: string) =>
      res.status(status).render('accounts/identity-ldap', {
        title: labelOf(p, req.lang),
        provider: p,
        label: labelOf(p, req.lang),
        next: safeNext(req.body?.next),
        error: req.t(key),
        username: str(req.body?.username),
      });
    let who: VerifiedIdentity | undefined;
    try {
      who = await id.ldap.verify(p, str(req.body?.username), str(req.body?.password));
    } catch (err) {
      log.warn({ provider: p.id, err: (err as Error).message }, 'directory unavailable');
      return render(502, 'accounts:identity.unavailable');
    }
    if (!who) return render(401, 'accounts:identity.ldapFailed');
    await complete(req, res, next, p, who, { provider: p.id }, str(req.body?.next));
  };

  const samlMetadata = async (req: Request, res: Response) => {
    const p = await id.providers.enabled(String(req.params.id));
    if (p.protocol !== 'saml') throw wrongProtocol(p, 'saml');
    res.type('application/samlmetadata+xml').send(id.saml.metadata(p));
  };

  const forgotPage = (req: Request, res: Response, status = 200, message?: string, error?: string) =>
    res
      .status(status)
      .render('accounts/forgot', { title: req.t('accounts:recovery.title'), available: id.recovery.available, message, error });

  const forgot = (req: Request, res: Response) => {
    const email = str(req.body?.email).trim();
    if (!email || email.length > 254) return forgotPage(req, res, 400, undefined, req.t('accounts:recovery.missing'));
    id.recovery.request(email);
    forgotPage(req, res, 200, req.t('accounts:recovery.sent'));
  };

  const resetPage = async (req: Request, res: Response) => {
    const ok = !!(await id.recovery.check(String(req.params.token)));
    res.status(ok ? 200 : 410).render('accounts/reset', {
      title: req.t('accounts:recovery.resetTitle'),
      token: ok ? req.params.token : undefined,
      error: ok ? undefined : req.t('accounts:recovery.invalid'),
    });
  };

  const reset = async (req: Request, res: Response) => {
    const render = (status: number, key: string, token?: string) =>
      res.status(status).render('accounts/reset', { title: req.t('accounts:recovery.resetTitle'), token, error: req.t(key) });
    const token = String(req.params.token);
    if (str(req.body?.password) !== str(req.body?.confirm)) return render(400, 'accounts:profile.mismatch', token);
    try {
      await id.recovery.reset(token, str(req.body?.password));
    } catch (err) {
      if (err instanceof HttpError && err.status < 500)
        return render(err.status, err.options.key ?? 'accounts:recovery.invalid', err.status === 400 ? token : undefined);
      throw err;
    }
    res
      .status(200)
      .render('accounts/reset', { title: req.t('accounts:recovery.resetTitle'), token: undefined, error: undefined, done: true });
  };

  const forgotLimiter = rateLimit({
    windowMs: 15 * 60_000,
    limit: id.recoveryRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new HttpError(429, 'Too many requests; wait 15 minutes', { key: 'accounts:recovery.tooMany' })),
  });

  const admin = async (req: Request, res: Response, status = 200, error?: string, form?: Record<string, unknown>) => {
    const page = pageNumber(req.query.page);
    // `?edit=ID` fills the form with a provider's settings (never its secrets).
    const editing = form ? undefined : await id.providers.get(str(req.query.edit));
    if (str(req.query.edit) && (!editing || editing.source === 'file'))
      throw new HttpError(404, `No identity provider "${str(req.query.edit)}" to edit here`, { key: 'accounts:identity.unknownProvider' });
    const provider = str(req.query.provider);
    const { links, total } = await id.linker.list({ provider: provider || undefined, skip: (page - 1) * 50, limit: 50 });
    res.status(status).render('accounts/identity-admin', {
      title: req.t('accounts:identity.admin.title'),
      providers: await id.providers.list(),
      links,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / 50)),
      provider,
      error,
      form: form ?? (editing ? formOf(editing) : {}),
      saved: str(req.query.saved),
      urls: (p: Provider) => id.urlsOf(p),
    });
  };

  const adminSave = async (req: Request, res: Response) => {
    const b = req.body as Record<string, string>;
    try {
      const input = providerFromForm(b);
      // An empty secret field keeps the stored secret (it is never shown again).
      const before = await id.providers.get(String(input.id));
      if (before?.protocol === 'oidc' && input.protocol === 'oidc' && !input.clientSecret) input.clientSecret = before.clientSecret;
      if (before?.protocol === 'ldap' && input.protocol === 'ldap' && !input.bindPassword) input.bindPassword = before.bindPassword;
      if (before?.protocol === 'saml' && input.protocol === 'saml' && !input.spPrivateKey && input.spCert)
        input.spPrivateKey = before.spPrivateKey;
      const p = await id.providers.save(input);
      res.redirect(303, `/accounts/identity/admin?saved=${encodeURIComponent(p.id)}`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      await admin(req, res, err.status, errorText(req.t, err), {
        ...b,
        clientSecret: '',
        bindPassword: '',
        spPrivateKey: '',
      });
    }
  };

  return [
    { method: 'get', path: '/identity/admin', guard: 'accounts:manage', handler: (req, res) => admin(req, res) },
    { method: 'post', path: '/identity/admin/providers', guard: 'accounts:manage', handler: adminSave },
    {
      method: 'post',
      path: '/identity/admin/providers/:id/delete',
      guard: 'accounts:manage',
      handler: async (req, res) => {
        await id.providers.remove(String(req.params.id));
        res.redirect(303, '/accounts/identity/admin');
      },
    },
    {
      method: 'post',
      path: '/identity/admin/links/:id/delete',
      guard: 'accounts:manage',
      handler: async (req, res) => {
        await id.linker.remove(String(req.params.id));
        res.redirect(303, '/accounts/identity/admin');
      },
    },
    { method: 'get', path: '/identity/:id/start', guard: 'public', handler: start },
    { method: 'get', path: '/identity/oidc/:id/callback', guard: 'public', handler: oidcCallback },
    { method: 'post', path: '/identity/ldap/:id', guard: 'public', handler: [loginLimiter, ldapSignIn] },
    { method: 'get', path: '/identity/saml/:id/metadata', guard: 'public', handler: samlMetadata },
    { method: 'get', path: '/identity/saml/:id/logout', guard: 'public', handler: samlLogout(id, log) },
    { method: 'get', path: '/password/forgot', guard: 'public', handler: (req, res) => forgotPage(req, res) },
    { method: 'post', path: '/password/forgot', guard: 'public', handler: [forgotLimiter, forgot] },
    { method: 'get', path: '/password/reset/:token', guard: 'public', handler: resetPage },
    { method: 'post', path: '/password/reset/:token', guard: 'public', handler: reset },
  ];
}

/**
 * Our SAML single logout URL. The IdP's LogoutRequest (the person signed out there, or at another
 * SP) ends every session of ours it names — found by NameID and SessionIndex, since a cross-site
 * POST comes without our cookie — and is answered with a LogoutResponse. The IdP's answer to our
 * own LogoutRequest (sign-out already ended the session) just leads to the sign-in page.
 */
const samlLogout = (id: Identity, log: Logger) => async (req: Request, res: Response) => {
  const p = await id.providers.enabled(String(req.params.id));
  if (p.protocol !== 'saml') throw wrongProtocol(p, 'saml');
  const fields = (req.method === 'GET' ? req.query : (req.body ?? {})) as Record<string, string>;
  const message: SloMessage =
    req.method === 'GET'
      ? { binding: 'redirect', query: fields, originalQuery: req.originalUrl.split('?')[1] ?? '' }
      : { binding: 'post', body: fields };
  if (!fields.SAMLRequest) {
    if (message.binding === 'redirect' && fields.SAMLResponse)
      await id.saml
        .receiveLogout(p, message)
        .catch((err: Error) => log.warn({ provider: p.id, err: err.message }, 'SAML logout answer refused'));
    return res.redirect(303, '/accounts/login');
  }
  let request;
  try {
    ({ request } = await id.saml.receiveLogout(p, message));
  } catch (err) {
    log.warn({ provider: p.id, err: (err as Error).message }, 'SAML logout request refused');
    throw new HttpError(400, 'The sign-out request of the identity provider could not be verified', {
      key: 'accounts:identity.logoutRefused',
    });
  }
  if (!request) throw new HttpError(400, 'Not a LogoutRequest', { key: 'accounts:identity.logoutRefused' });
  const ended = await id.endSamlSessions(p, request);
  log.info({ provider: p.id, ended }, 'SAML single logout from the identity provider');
  res.redirect(303, await id.saml.logoutResponseUrl(p, request, str(fields.RelayState)));
};

/**
 * The SAML endpoints the IdP's page posts to cross-site (without our session cookie, which is
 * SameSite=Lax), outside the plugin's CSRF-checked router: the assertion consumer service, whose
 * response's signature and InResponseTo — an id we stored when sending the request — stand in
 * for CSRF, and the single logout URL, whose LogoutRequest must be signed by the IdP.
 */
export function samlPostRoutes(root: Router, id: Identity, log: Logger): void {
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  const logout = samlLogout(id, log);
  root.post('/accounts/identity/saml/:id/logout', form, (req, res, next) => logout(req, res).catch(next));
  root.post('/accounts/identity/saml/:id/acs', form, async (req, res, next) => {
    try {
      const p = await id.providers.enabled(String(req.params.id));
      if (p.protocol !== 'saml') throw wrongProtocol(p, 'saml');
      let result;
      try {
        result = await id.saml.finish(p, req.body ?? {});
      } catch (err) {
        log.warn({ provider: p.id, err: (err as Error).message }, 'SAML response refused');
        return await refuser(id)(req, res, 401, 'accounts:identity.failed');
      }
      await completer(id, log)(req, res, next, p, result.identity, { provider: p.id, saml: result.session }, req.body?.RelayState);
    } catch (err) {
      next(err);
    }
  });
}

/** A provider's settings → the admin form's flat fields, without the secrets (the inverse of providerFromForm). */
function formOf(p: Provider): Record<string, unknown> {
  const flat: Record<string, unknown> = {
    ...p,
    label_es: p.label.es,
    label_pt: p.label.pt,
    label_en: p.label.en,
    orgUnits: p.orgUnits.join(', '),
  };
  for (const [k, v] of Object.entries(p.attributes)) flat[`attr_${k}`] = v;
  for (const k of ['clientSecret', 'bindPassword', 'spPrivateKey', 'label', 'attributes', 'source']) delete flat[k];
  return flat;
}

/** The admin form's flat fields → provider settings (validated by the providers service). */
function providerFromForm(b: Record<string, string>): Record<string, unknown> {
  const s = (k: string) => (typeof b[k] === 'string' ? b[k].trim() : '');
  const opt = (k: string) => s(k) || undefined;
  const common = {
    id: s('id'),
    protocol: s('protocol'),
    label: { es: s('label_es'), pt: s('label_pt'), en: s('label_en') },
    orgUnits: s('orgUnits')
      .split(/[\s,;]+/)
      .filter(Boolean),
    match: s('match') || 'email',
    required: b.required === 'on',
    enabled: b.enabled === 'on',
    attributes: {
      email: opt('attr_email'),
      name: opt('attr_name'),
      nationalId: opt('attr_nationalId'),
      employeeId: opt('attr_employeeId'),
    },
  };
  if (common.protocol === 'oidc')
    return {
      ...common,
      issuer: s('issuer'),
      clientId: s('clientId'),
      clientSecret: opt('clientSecret'),
      scope: opt('scope'),
      logout: b.logout === 'on',
    };
  if (common.protocol === 'saml')
    return {
      ...common,
      entryPoint: s('entryPoint'),
      idpIssuer: s('idpIssuer'),
      idpCert: s('idpCert'),
      logoutUrl: opt('logoutUrl'),
      spCert: opt('spCert'),
      spPrivateKey: opt('spPrivateKey'),
      encryptedAssertions: b.encryptedAssertions === 'on',
    };
  return {
    ...common,
    url: s('url'),
    startTls: b.startTls === 'on',
    ca: opt('ca'),
    bindDn: s('bindDn'),
    bindPassword: s('bindPassword'),
    searchBase: s('searchBase'),
    usernameAttribute: opt('usernameAttribute'),
    subjectAttribute: opt('subjectAttribute'),
  };
}
