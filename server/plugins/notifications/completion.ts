import type { AccountsUsers } from '../../core/contracts/accounts';
import type { CatalogService, CourseProgress, CourseSummary } from '../../core/contracts/catalog';
import type { IssuedCertificate } from '../../core/contracts/certificates';
import { formatDate } from '../../core/dates';
import type { Versions } from './inbox';
import { inOtherLanguages, type Mailer, type Message, type Outcome, type Recipient } from './mailer';

export interface CompletionSettings {
  timeZone: string;
  baseUrl: string;
}

const title = (t: Record<string, string>, lang: string) => t[lang] ?? t.es ?? Object.values(t)[0] ?? '';

/** The e-mail telling a learner that a course is done (the key is the registration: sent once). */
export function completionFor(
  u: Recipient,
  course: CourseSummary,
  progress: Pick<CourseProgress, 'registration' | 'satisfiedAt' | 'updatedAt'>,
  mailer: Mailer,
  s: CompletionSettings,
): Message {
  const t = mailer.t(u.language);
  const name = title(course.title, u.language);
  const date = formatDate(progress.satisfiedAt ?? progress.updatedAt, u.language, s.timeZone, 'day');
  return {
    kind: 'completion',
    key: `completion:${u.id}:${progress.registration}`,
    to: u,
    subject: t('notifications:completion.subject', { title: name }),
    paragraphs: [t('notifications:completion.body', { title: name, hours: course.hours, date })],
    action: { label: t('notifications:completion.action'), href: `${s.baseUrl}/catalog/my-path` },
  };
}

/** The e-mail telling the holder that a certificate is ready, with its public verification address. */
export function certificateFor(
  u: Recipient,
  cert: IssuedCertificate,
  courseTitle: string | undefined,
  mailer: Mailer,
  s: CompletionSettings,
): Message {
  const t = mailer.t(u.language);
  const name = cert.titles?.[u.language as 'es'] || courseTitle || cert.title;
  return {
    kind: 'certificate',
    key: `certificate:${cert.code}`,
    to: u,
    subject: t(`notifications:certificate.subject.${cert.kind}`, { title: name }),
    paragraphs: [
      t(`notifications:certificate.body.${cert.kind}`, { title: name, hours: cert.hours }),
      t('notifications:certificate.verify', { url: `${s.baseUrl}/verify/${cert.code}` }),
    ],
    action: { label: t('notifications:certificate.action'), href: `${s.baseUrl}/certificates/mine` },
  };
}

/**
 * Delivers one event's e-mail. An after-event may be delivered again (a crash, a second
 * process): the message's key makes the second delivery 'already-sent'. A refused delivery
 * throws, so the outbox retries the event with its back-off until the mailer gives up.
 */
async function send(mailer: Mailer, msg: Message | undefined, versions: Versions): Promise<Outcome | undefined> {
  if (!msg) return undefined;
  const outcome = await mailer.notify(msg, versions);
  if (outcome === 'failed') throw new Error(`notification e-mail ${msg.key} was refused by the mail server`);
  return outcome;
}

/** The active account behind an event, if it can receive e-mail. */
async function recipient(users: AccountsUsers, userId: string): Promise<Recipient | undefined> {
  const u = await users.findActiveById(userId);
  return u?.email ? u : undefined;
}

export async function onCourseSatisfied(
  d: { users: AccountsUsers; mailer: Mailer; settings: CompletionSettings },
  p: { userId: string; course: CourseSummary; progress: CourseProgress },
): Promise<Outcome | undefined> {
  const u = await recipient(d.users, p.userId);
  if (!u) return undefined;
  const build = (to: Recipient) => completionFor(to, p.course, p.progress, d.mailer, d.settings);
  return send(d.mailer, build(u), inOtherLanguages(u, build));
}

export async function onCertificateIssued(
  d: {
    users: AccountsUsers;
    catalog: CatalogService;
    certificate: (code: string) => Promise<IssuedCertificate | undefined>;
    mailer: Mailer;
    settings: CompletionSettings;
  },
  code: string,
): Promise<Outcome | undefined> {
  const cert = await d.certificate(code);
  // A certificate revoked or replaced before this delivery is not announced.
  if (!cert || cert.status !== 'valid') return undefined;
  const u = await recipient(d.users, cert.userId);
  if (!u) return undefined;
  // The title in the holder's language: the certificate's own copy, else the catalog's (older ones).
  const course = cert.kind === 'course' && !cert.titles ? await d.catalog.getCourse(cert.subjectId) : undefined;
  const build = (to: Recipient) => certificateFor(to, cert, course && title(course.title, to.language), d.mailer, d.settings);
  return send(d.mailer, build(u), inOtherLanguages(u, build));
}
