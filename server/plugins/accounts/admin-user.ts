import type { Request, Response } from 'express';
import { HttpError, errorText, localizedError } from '../../core/errors';
import type { Route } from '../../core/routes';
import { mayManagePerson, ROLES, type SessionUser } from '../../core/permissions';
import { DEFAULT_TIERS, LEVELS } from '../../core/taxonomy';
import type { ServiceRegistry } from '../../core/services';
import type { UsersService } from './users.service';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * One account's page for the people who manage it: role (administrators only), unit, level of
 * government and tier, and a new invitation for someone who has not set a password yet. An
 * administrator acts on anyone; an HR officer only on the people of their org unit's subtree,
 * never on an administrator or themselves, and cannot move anyone out of that subtree.
 */
export function adminUserRoutes(users: UsersService, services: ServiceRegistry): Route[] {
  /** The units an HR officer's rights cover ('*': an administrator's, everything). */
  const unitsOf = async (actor: SessionUser): Promise<string[] | '*'> => {
    if (actor.role === 'admin') return '*';
    if (actor.role !== 'hr' || !actor.orgUnit) return [];
    return services.has('org.scope') ? services.get('org.scope').subtree(actor.orgUnit) : [actor.orgUnit];
  };

  /** The person, when the actor may manage them; 404 and 403 with messages in the page's language. */
  const personFor = async (req: Request) => {
    const person = await users.findById(String(req.params.id));
    if (!person) throw localizedError(404, 'accounts:errors.noUser');
    const units = await unitsOf(req.user!);
    const inScope = units === '*' || (!!person.orgUnit && units.includes(person.orgUnit));
    if (!inScope || !mayManagePerson(req.user!, person)) throw localizedError(403, 'accounts:errors.outsideScope');
    return { person, units };
  };

  /** The built-in tiers and those an admin added, with labels in the page's language. */
  const tierOptions = async (req: Request) => {
    const list = services.has('catalog.tiers')
      ? await services.get('catalog.tiers').list()
      : DEFAULT_TIERS.map((code) => ({ code, labels: {} as Record<string, string> }));
    return list.map((t) => ({
      code: t.code,
      label: t.labels[req.lang] ?? t.labels.es ?? Object.values(t.labels)[0] ?? req.t(`core:tiers.${t.code}`, { defaultValue: t.code }),
    }));
  };

  const render = async (
    req: Request,
    res: Response,
    person: SessionUser,
    extra: { status?: number; message?: string; error?: string; link?: string; form?: Record<string, string> } = {},
  ) => {
    const id = person.id;
    const invitations = services.has('roster.invitations') ? services.get('roster.invitations') : undefined;
    const [state, pending, tiers] = await Promise.all([users.signInState(id), invitations?.pending(id), tierOptions(req)]);
    const { active, hasPassword } = state;
    const unitName = services.has('org.scope') ? services.get('org.scope').name.bind(services.get('org.scope')) : async (c: string) => c;
    res.status(extra.status ?? 200).render('accounts/admin-user', {
      title: person.name,
      person,
      active,
      unitLabel: person.orgUnit ? await unitName(person.orgUnit) : '',
      form: extra.form ?? { role: person.role, orgUnit: person.orgUnit ?? '', level: person.level ?? '', tier: person.tier ?? '' },
      roles: ROLES,
      levels: LEVELS,
      tiers,
      mayChangeRole: req.user!.role === 'admin' && person.id !== req.user!.id,
      invitable: invitations && !hasPassword && active,
      pending,
      message: extra.message,
      error: extra.error,
      link: extra.link,
    });
  };

  const show = async (req: Request, res: Response) => {
    const { person } = await personFor(req);
    const saved = str(req.query.saved) === '1' ? req.t('accounts:adminUser.saved') : undefined;
    await render(req, res, person, { message: saved });
  };

  const save = async (req: Request, res: Response) => {
    const { person, units } = await personFor(req);
    const b = req.body as Record<string, unknown>;
    const form = { role: str(b.role) || person.role, orgUnit: str(b.orgUnit).trim(), level: str(b.level), tier: str(b.tier) };
    try {
      // Only an administrator gives or takes rights, and never their own (the last admin stays one).
      if (form.role !== person.role && !(req.user!.role === 'admin' && person.id !== req.user!.id))
        throw localizedError(403, 'accounts:errors.roleNotYours');
      // An HR officer places people only in units of their own subtree.
      if (units !== '*' && !units.includes(form.orgUnit))
        throw localizedError(403, 'accounts:errors.unitOutsideScope', { unit: form.orgUnit });
      if (form.tier && !(await tierOptions(req)).some((t) => t.code === form.tier))
        throw localizedError(400, 'accounts:errors.tier', { value: form.tier });
      await users.updateAccount(person.id, form);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      return render(req, res, person, { status: err.status, error: errorText(req.t, err), form });
    }
    res.redirect(303, `/accounts/admin/users/${person.id}?saved=1`);
  };

  const invite = async (req: Request, res: Response) => {
    const { person } = await personFor(req);
    if (!services.has('roster.invitations')) throw localizedError(404, 'accounts:errors.noInvitations');
    if ((await users.signInState(person.id)).hasPassword) throw localizedError(409, 'accounts:errors.hasPassword');
    const invitations = services.get('roster.invitations');
    const institution = (await invitations.pending(person.id))?.institution ?? person.orgUnit ?? '';
    // In the language the person reads, not the sender's.
    const lng = person.language;
    const inv = await invitations.resend(
      { id: person.id, email: person.email, name: person.name, institution },
      {
        subject: req.t('reports:invite.mailSubject', { lng }),
        text: (name, link) => req.t('reports:invite.mailBody', { lng, name, link }),
      },
    );
    await render(req, res, person, {
      message: req.t(inv.sent ? 'accounts:adminUser.inviteSent' : 'accounts:adminUser.inviteLink', { email: person.email }),
      link: inv.sent ? undefined : inv.link,
    });
  };

  return [
    { method: 'get', path: '/admin/users/:id', guard: 'accounts:people', handler: show },
    { method: 'post', path: '/admin/users/:id', guard: 'accounts:people', handler: save },
    { method: 'post', path: '/admin/users/:id/invite', guard: 'accounts:people', handler: invite },
  ];
}
