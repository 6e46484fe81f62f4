/**
 * The federated catalogue: every verified course of every peer, searched in memory. Each
 * process keeps the index and reloads it when the `remote` generation counter moves (one `_id`
 * read per search), so a sync in any process is seen by all without scanning on every request.
 */
import type { NetworkModels, RemoteCourse } from './network.model';

export interface Search {
  q?: string;
  lang?: string;
  tier?: string;
  license?: string;
  level?: string;
  page?: number;
}

const PAGE = 20;
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

interface Entry {
  course: RemoteCourse;
  text: string;
}

export class FederatedCatalog {
  private gen = -1;
  private entries: Entry[] = [];
  private loading?: Promise<void>;

  constructor(private readonly m: NetworkModels) {}

  private async fresh(): Promise<void> {
    const gen = (await this.m.state.findById('remote').lean<{ gen: number }>())?.gen ?? 0;
    if (gen === this.gen) return;
    this.loading ??= (async () => {
      const all = await this.m.remote.find({}).lean<RemoteCourse[]>();
      this.entries = all
        .map((course) => ({
          course,
          text: fold([...Object.values(course.title), ...Object.values(course.description), ...course.topics, course.publisher].join(' ')),
        }))
        .sort(
          (a, b) =>
            (Object.values(a.course.title)[0] ?? '').localeCompare(Object.values(b.course.title)[0] ?? '') ||
            a.course._id.localeCompare(b.course._id),
        );
      this.gen = gen;
    })().finally(() => (this.loading = undefined));
    await this.loading;
  }

  async search(s: Search): Promise<{
    total: number;
    page: number;
    pages: number;
    courses: RemoteCourse[];
    facets: { languages: string[]; tiers: string[]; licenses: string[] };
  }> {
    await this.fresh();
    const words = fold(s.q ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 10);
    const hits = this.entries.filter(
      (e) =>
        words.every((w) => e.text.includes(w)) &&
        (!s.lang || e.course.languages.includes(s.lang)) &&
        (!s.tier || e.course.tiers.includes(s.tier)) &&
        (!s.level || e.course.levels.includes(s.level)) &&
        (!s.license || e.course.license === s.license),
    );
    const pages = Math.max(1, Math.ceil(hits.length / PAGE));
    const page = Math.min(Math.max(1, s.page ?? 1), pages);
    const uniq = (f: (c: RemoteCourse) => string[]) => [...new Set(this.entries.flatMap((e) => f(e.course)))].sort();
    return {
      total: hits.length,
      page,
      pages,
      courses: hits.slice((page - 1) * PAGE, page * PAGE).map((e) => e.course),
      facets: { languages: uniq((c) => c.languages), tiers: uniq((c) => c.tiers), licenses: uniq((c) => [c.license]) },
    };
  }
}
