import type { CatalogExchange, ExchangeCourse } from '../../core/contracts/catalog';
import type { Course } from './course.model';
import type { CoursesService } from './courses.service';
import { toSummary } from './progress/progress.service';

const byLang = (m: Course['description']) => Object.fromEntries(m.map((t) => [t.lang, t.text]));

function toExchange(c: Course): ExchangeCourse {
  return {
    ...toSummary(c),
    description: byLang(c.description),
    topics: c.topics,
    languages: c.languages,
    ...(c.license ? { license: c.license } : {}),
    published: c.published,
    ...(c.provenance?.origin ? { provenance: c.provenance } : {}),
  };
}

/** The catalog's side of the course exchange between institutions (contract `catalog.exchange`). */
export function exchangeService(courses: CoursesService): CatalogExchange {
  return {
    async courses() {
      return (await courses.listCourses()).map(toExchange);
    },
    async course(id) {
      const c = await courses.getCourse(id);
      return c ? toExchange(c) : undefined;
    },
    writePackage: (courseId, version, dest) => courses.writeArchive(courseId, version, dest),
    async importPackage({ filePath, expectCourseId, provenance, importedBy }) {
      const r = await courses.importPackage({ filePath, originalName: 'package.zip', expectCourseId, provenance, importedBy });
      return { courseId: r.courseId, version: r.version, alreadyInstalled: r.alreadyInstalled };
    },
  };
}
