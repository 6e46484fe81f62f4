/**
 * What an AU page needs from the system that launched it, whichever that is: a cmi5 LMS
 * (cmi5-tracker.ts) or a SCORM 1.2 LMS (scorm12-tracker.ts, the library's SCORM export). The page
 * (au.ts) only talks to this, so both packages are built from the same pages and script.
 */
import type { AttemptView, ScoredView } from './scoring';

export interface Score {
  scaled: number;
  raw: number;
  min: number;
  max: number;
}

/** What the page keeps between sessions: the section being read, and what was already recorded. */
export interface Bookmark {
  section?: string;
  completed?: boolean;
  passed?: boolean;
}

export interface Tracker {
  /** Results count (cmi5 launchMode Normal, SCORM lesson_mode normal); browse and review record nothing. */
  readonly normal: boolean;
  /**
   * cmi5 §9.3 allows one of passed/failed per session, so a failed attempt waits for the end of
   * the session (the learner may retry and pass); SCORM takes the latest status at once.
   */
  readonly oneJudgementPerSession: boolean;
  /** The learner's language preference (comma-separated tags), if the LMS has one. */
  languagePreference(): string | undefined;
  loadBookmark(): Promise<Bookmark>;
  saveBookmark(b: Bookmark): Promise<void>;
  complete(): Promise<void>;
  pass(s: Score): Promise<void>;
  fail(s: Score): Promise<void>;
  /** A new assessment attempt; `score` its answers (`{ q1: [shown option index] }`). */
  draw(): Promise<AttemptView>;
  score(attempt: string, answers: Record<string, number[]>): Promise<ScoredView>;
  /** Ends the session (after a pending fail was sent with `fail`). */
  terminate(): Promise<void>;
  /** The page is going away without "Exit": ends the session as it still can, a pending fail first. */
  leave(pendingFail: Score | null): void;
  /** Where "Exit" goes afterwards, if the LMS says. */
  returnUrl(): string | undefined;
}
