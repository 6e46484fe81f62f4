/**
 * What launch, paths and progress need from the course store (Engineer P's courses.service).
 * Declared structurally so these modules depend on the shape, not on the importer's internals.
 */
export type LangMap = Array<{ lang: string; text: string }>;

export type MoveOn = 'Passed' | 'Completed' | 'CompletedAndPassed' | 'CompletedOrPassed' | 'NotApplicable';

export interface AuNode {
  type: 'au';
  id: string;
  title: LangMap;
  description: LangMap;
  url: string;
  launchMethod: 'AnyWindow' | 'OwnWindow';
  moveOn: MoveOn;
  masteryScore?: number;
  launchParameters?: string;
  entitlementKey?: string;
  activityType?: string;
}

export interface BlockNode {
  type: 'block';
  id: string;
  title: LangMap;
  description: LangMap;
  objectives?: string[];
  children: CourseNode[];
}

export type CourseNode = AuNode | BlockNode;

export interface CourseRecord {
  _id: string;
  title: LangMap;
  description: LangMap;
  hours: number;
  tiers: string[];
  levels: string[];
  topics: string[];
  languages: string[];
  license?: string;
  published: boolean;
  currentVersion: number;
}

export interface CourseVersionRecord {
  _id: string;
  courseId: string;
  version: number;
  packageId: string;
  auCount: number;
  structure: CourseNode[];
}

export interface CourseReader {
  getCourse(id: string): Promise<CourseRecord | null | undefined>;
  getVersion(courseId: string, version: number): Promise<CourseVersionRecord | null | undefined>;
  listCourses(opts?: { publishedOnly?: boolean }): Promise<CourseRecord[]>;
  /** URL of an AU's launch file: absolute AU URLs unchanged, package-relative ones on the content route. */
  contentUrl(version: CourseVersionRecord, auUrl: string): string;
}

/** Text in the wanted language, else Spanish, else the first one given. */
export function pick(map: LangMap | undefined, lang: string): string {
  if (!map?.length) return '';
  return (map.find((m) => m.lang === lang) ?? map.find((m) => m.lang.startsWith(lang)) ?? map.find((m) => m.lang.startsWith('es')) ?? map[0]).text;
}

/** Every AU of a structure, depth first, in course order. */
export function allAus(nodes: CourseNode[]): AuNode[] {
  const out: AuNode[] = [];
  const walk = (ns: CourseNode[]) => {
    for (const n of ns) n.type === 'au' ? out.push(n) : walk(n.children);
  };
  walk(nodes);
  return out;
}

export function findAu(nodes: CourseNode[], auId: string): AuNode | undefined {
  return allAus(nodes).find((a) => a.id === auId);
}
