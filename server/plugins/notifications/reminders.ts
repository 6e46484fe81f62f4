import type { AccountsUsers } from '../../core/contracts/accounts';
import type { CatalogService } from '../../core/contracts/catalog';
import { formatDate } from '../../core/dates';
import type { Mailer, Message, Outcome, Recipient } from './mailer';
import { SUPPORTED_LANGUAGES } from '../../core/config';

const DAY_MS = 86_400_000;

export interface ReminderSettings {
  /** How long before a deadline the "due soon" reminder goes out. */
  beforeMs: number;
  /** After a deadline, a reminder every this long while courses are missing. */
  overdueEveryMs: number;
  timeZone: string;
  baseUrl: string;
}

const title = (t: Record<string, string>, lang: string) => t[lang] ?? t.es ?? Object.values(t)[0] ?? '';

/**
 * Deadline reminders: everyone with a required course not yet satisfied whose path has a due
 * date gets one e-mail when the date comes within `beforeMs` and one every `overdueEveryMs` once
 * it has passed, listing the courses still missing, until they are satisfied. Each e-mail's key
 * names the person, the due day and the stage (and which repeat), so re-running sends nothing twice.
 */
export async function sendReminders(
  users: AccountsUsers,
  catalog: CatalogService,
  mailer: Mailer,
  s: ReminderSettings,
  now = new Date(),
): Promise<Record<Outcome, number>> {
  const tally: Record<Outcome, number> = { sent: 0, 'already-sent': 0, 'turned-off': 0, failed: 0, 'given-up': 0, 'no-mail-server': 0 };
  const page = 200;
  for (let skip = 0; ; skip += page) {
    const { users: batch } = await users.list({ skip, limit: page });
    for (const u of batch) {
      // Administrators run the programme; servants (learners and HR officers) follow paths.
      if (!u.active || u.role === 'admin' || !u.email) continue;
      const msgs = await remindersFor(u, catalog, mailer, s, now);
      if (!msgs.length) continue;
      // The same reminders in the other languages, for the in-app list (made only when there are some).
      let made: Promise<Message[]> | undefined;
      const others = () =>
        (made ??= Promise.all(
          SUPPORTED_LANGUAGES.filter((l) => l !== u.language).map((language) => remindersFor({ ...u, language }, catalog, mailer, s, now)),
        ).then((all) => all.flat()));
      for (const msg of msgs) tally[await mailer.notify(msg, others)]++;
    }
    if (batch.length < page) break;
  }
  return tally;
}

/** The reminders due for one person now (the English-leak test renders them in every language). */
export async function remindersFor(
  u: Recipient & { tier?: string; level?: string },
  catalog: CatalogService,
  mailer: Mailer,
  s: ReminderSettings,
  now = new Date(),
) {
  // The deadline HR set for the person, else their path's.
  const deadlines = await catalog.deadlinesFor(u);
  if (!deadlines.size) return [];
  const satisfied = new Set((await catalog.progressOf(u.id, [...deadlines.keys()])).filter((p) => p.satisfied).map((p) => p.courseId));
  const byDay = new Map<string, { dueAt: Date; courses: string[] }>();
  for (const [courseId, dueAt] of deadlines) {
    if (satisfied.has(courseId)) continue;
    const day = dueAt.toISOString().slice(0, 10);
    const g = byDay.get(day) ?? { dueAt, courses: [] };
    g.courses.push(courseId);
    byDay.set(day, g);
  }
  const t = mailer.t(u.language);
  const out = [];
  for (const [day, g] of byDay) {
    const left = g.dueAt.getTime() - now.getTime();
    let stage: 'soon' | 'overdue';
    let key: string;
    if (left < 0) {
      stage = 'overdue';
      key = `reminder:${u.id}:overdue:${day}:${Math.floor(-left / s.overdueEveryMs)}`;
    } else if (left <= s.beforeMs) {
      stage = 'soon';
      key = `reminder:${u.id}:soon:${day}`;
    } else continue;
    const courses = (await Promise.all(g.courses.map((id) => catalog.getCourse(id)))).filter((c) => !!c);
    if (!courses.length) continue;
    const date = formatDate(g.dueAt, u.language, s.timeZone, 'day');
    // Whole calendar days between today and the due day, as a person counts them.
    const days = Math.max(1, Math.abs(Date.parse(day) - Date.parse(now.toISOString().slice(0, 10))) / DAY_MS);
    out.push({
      kind: 'reminders' as const,
      key,
      to: u,
      subject: t(`notifications:reminder.${stage}.subject`, { date }),
      paragraphs: [
        t(`notifications:reminder.${stage}.intro`, { date, count: days }),
        t('notifications:reminder.courses', { count: courses.length }),
      ],
      items: courses.map((c) => t('notifications:reminder.course', { title: title(c.title, u.language), hours: c.hours })),
      action: { label: t('notifications:reminder.action'), href: `${s.baseUrl}/catalog/my-path` },
    });
  }
  return out;
}
