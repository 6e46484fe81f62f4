/**
 * This instance's side of the course exchange: the courses an admin publishes, the signed JSON
 * feed instances subscribe to, and the packages themselves (rebuilt byte for byte from the
 * catalog's store, checked against the published SHA-256 before they are served).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { CatalogExchange } from '../../core/contracts/catalog';
import { HttpError, notFound } from '../../core/errors';
import type { NetworkModels, Published } from './network.model';
import { sign, type SigningKey } from './signing';

export const FEED_TYPE = 'application/vnd.aprende-tic.course-feed+json';
export const DEFAULT_LICENSE = 'CC BY 4.0';

export interface Identity {
  /** The publishing institution's name. */
  publisher: string;
  /** ISO 3166-1 alpha-3 code of the country (the observatory's REF_AREA). */
  country: string;
  origin: string;
}

const License = z.string().trim().min(2, 'licence: name one (e.g. CC BY 4.0)').max(100);

export class Publisher {
  constructor(
    private readonly m: NetworkModels,
    private readonly catalog: () => CatalogExchange,
    private readonly key: SigningKey,
    readonly identity: Identity,
    private readonly tmpDir: string,
  ) {}

  private async tmp(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return path.join(this.tmpDir, `${randomBytes(8).toString('hex')}.zip`);
  }

  /** Publishes the course's current version (again after a new version was imported). */
  async publish(courseId: string, license?: string): Promise<Published> {
    const course = await this.catalog().course(courseId);
    if (!course) throw notFound(`No course ${courseId}`);
    const lic = License.safeParse(license || course.license || DEFAULT_LICENSE);
    if (!lic.success) throw new HttpError(400, lic.error.issues[0].message);
    const file = await this.tmp();
    try {
      await this.catalog().writePackage(courseId, course.version, file);
      const sha256 = await sha256Of(file);
      const doc: Published = {
        _id: course.id,
        id: course.id,
        version: course.version,
        title: course.title,
        description: course.description,
        languages: course.languages,
        tiers: course.tiers,
        levels: course.levels,
        topics: course.topics,
        hours: course.hours,
        license: lic.data,
        sha256,
        size: (await stat(file)).size,
        package: `packages/${sha256}.zip`,
        publishedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      await this.m.published.replaceOne({ _id: doc._id }, doc, { upsert: true });
      return doc;
    } finally {
      await rm(file, { force: true });
    }
  }

  async unpublish(courseId: string): Promise<void> {
    const r = await this.m.published.deleteOne({ _id: courseId });
    if (!r.deletedCount) throw notFound(`Course ${courseId} is not published`);
  }

  async list(): Promise<Published[]> {
    return (await this.m.published.find({}).lean<Published[]>()).sort(
      (a, b) => a.publishedAt.localeCompare(b.publishedAt) || a._id.localeCompare(b._id),
    );
  }

  /** The signed JSON feed: who publishes, and each published course version. */
  async feed() {
    const courses = (await this.list()).map(({ _id, ...c }) => c);
    return sign(this.key, FEED_TYPE, {
      type: 'course-feed',
      version: 1,
      publisher: this.identity,
      generatedAt: new Date().toISOString(),
      courses,
    });
  }

  /**
   * A published package, rebuilt from the store. The caller streams `file` and then calls
   * `done()`; a rebuild that does not give the published bytes is refused, never served.
   */
  async package(sha256: string): Promise<{ file: string; size: number; done: () => Promise<void> }> {
    if (!/^[a-f0-9]{64}$/.test(sha256)) throw notFound('No such package');
    const pub = await this.m.published.findOne({ sha256 }).lean<Published>();
    if (!pub) throw notFound('No such package');
    const file = await this.tmp();
    const done = () => rm(file, { force: true });
    try {
      await this.catalog().writePackage(pub.id, pub.version, file);
      if ((await sha256Of(file)) !== sha256) throw new Error(`package of ${pub.id} v${pub.version} no longer has its published hash`);
    } catch (err) {
      await done();
      throw err;
    }
    return { file, size: (await stat(file)).size, done };
  }
}

export async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}
