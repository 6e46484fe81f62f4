import type { AccountsUsers } from '../../core/contracts/accounts';
import type { FiguresSource } from '../../core/contracts/figures';
import { inOtherLanguages, type Mailer, type Message, type Outcome, type Recipient } from './mailer';

/** The whole country: the national programme's (administrators') scope. */
const ALL = '*';

/**
 * The HR digest: every HR officer (their org unit's subtree) and administrator (the whole
 * country) gets, once per period, who is trained against the 80 % target and how many are still
 * needed, with a link to the dashboard. The period is the job's interval (a week by default):
 * the key names its number, so a restart or a second process does not send it again.
 */
export async function sendDigests(
  users: AccountsUsers,
  figures: FiguresSource,
  mailer: Mailer,
  s: { everyMs: number; baseUrl: string },
  now = new Date(),
): Promise<Record<Outcome, number>> {
  const tally: Record<Outcome, number> = { sent: 0, 'already-sent': 0, 'turned-off': 0, failed: 0, 'given-up': 0, 'no-mail-server': 0 };
  const period = Math.floor(now.getTime() / s.everyMs);
  const page = 200;
  for (const role of ['hr', 'admin'] as const) {
    for (let skip = 0; ; skip += page) {
      const { users: batch } = await users.list({ role, skip, limit: page });
      for (const u of batch) {
        const scope = role === 'admin' ? ALL : u.orgUnit;
        if (!u.active || !scope || !u.email) continue;
        const build = (to: Recipient) => digestFor(to, scope, figures, mailer, s.baseUrl, period);
        tally[await mailer.notify(await build(u), inOtherLanguages(u, build))]++;
      }
      if (batch.length < page) break;
    }
  }
  return tally;
}

/** One officer's digest for one period (the English-leak test renders it in every language). */
export async function digestFor(
  u: Recipient,
  scope: string,
  figures: FiguresSource,
  mailer: Mailer,
  baseUrl: string,
  period: number,
): Promise<Message> {
  const f = await figures.of(scope);
  const t = mailer.t(u.language);
  const pct = (v: number | null) =>
    v === null ? '—' : new Intl.NumberFormat(u.language, { style: 'percent', maximumFractionDigits: 1 }).format(v);
  const unit = scope === ALL ? t('notifications:digest.country') : f.scope.name;
  const paragraphs =
    f.total === 0
      ? [t('notifications:digest.empty', { unit })]
      : [
          t('notifications:digest.trained', { unit, trained: f.trained, total: f.total, share: pct(f.share), count: f.total }),
          f.target.met
            ? t('notifications:digest.met', { target: pct(f.target.share) })
            : t('notifications:digest.gap', { target: pct(f.target.share), needed: f.target.needed, count: f.target.gap }),
        ];
  const query = scope === ALL ? '' : `?unit=${encodeURIComponent(scope)}`;
  return {
    kind: 'digest',
    key: `digest:${u.id}:${period}`,
    to: u,
    subject: t('notifications:digest.subject', { unit }),
    paragraphs,
    action: { label: t('notifications:digest.action'), href: `${baseUrl}/reports${query}` },
  };
}
