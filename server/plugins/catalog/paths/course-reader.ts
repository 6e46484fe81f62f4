/**
 * What launch, paths and progress need from the course store (Engineer P's courses.service).
 * Declared structurally so these modules depend on the shape, not on the importer's internals.
 */
import type { AuNode, Course, CourseVersion, LangMap, StructureNode } from '../course.model';

export type { AuNode, BlockNode, LangMap, MoveOn } from '../course.model';
export type CourseNode = StructureNode;
export type CourseRecord = Course;
export type CourseVersionRecord = CourseVersion;

export interface CourseReader {
  getCourse(id: string): Promise<CourseRecord | null | undefined>;
  getVersion(courseId: string, version: number): Promise<CourseVersionRecord | null | undefined>;
  listCourses(opts?: { publishedOnly?: boolean }): Promise<CourseRecord[]>;
  /**
   * URL of an AU's launch file: absolute AU URLs unchanged, package-relative ones on the content
   * route (`scorm`: the route where a SCORM package's frames share one origin, see content-route.ts).
   */
  contentUrl(version: Pick<CourseVersionRecord, 'packageId'>, auUrl: string, route?: 'content' | 'scorm'): string;
}

/** Text in the wanted language, else Spanish, else the first one given. */
export function pick(map: LangMap | undefined, lang: string): string {
  if (!map?.length) return '';
  return (
    map.find((m) => m.lang === lang) ??
    map.find((m) => m.lang.startsWith(lang)) ??
    map.find((m) => m.lang.startsWith('es')) ??
    map[0]
  ).text;
}

/** Every AU of a structure, depth first, in course order. */
export function allAus(nodes: CourseNode[]): AuNode[] {
  const out: AuNode[] = [];
  const walk = (ns: CourseNode[]) => {
    for (const n of ns) {
      if (n.type === 'au') out.push(n);
      else walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

export function findAu(nodes: CourseNode[], auId: string): AuNode | undefined {
  return allAus(nodes).find((a) => a.id === auId);
}
