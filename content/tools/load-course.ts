/** Reads one course folder of the authoring format and validates it as a whole. */
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { assessmentProblems, assessmentReport, type AssessmentReport } from './authoring-rules';
import {
  assessmentSchema,
  courseYamlSchema,
  describeIssues,
  lessonFrontMatterSchema,
  type Assessment,
  type CourseYaml,
  type Lang,
  type LessonFrontMatter,
} from './course-schema';
import { lessonWords, readingMinutes, studyTime, type StudyTime } from './study-time';

export class CourseSourceError extends Error {
  override name = 'CourseSourceError';
}

export interface LessonSource {
  key: string; // lesson-N
  meta: LessonFrontMatter;
  markdown: string;
  /** reading time of this language version (study-time.ts) */
  minutes: number;
}

export interface CourseSource {
  dir: string;
  meta: CourseYaml;
  /** lessons[lang][i], in the order the blocks list them */
  lessons: Record<string, LessonSource[]>;
  assessments: Record<string, Assessment>;
  /** derived from the Spanish text; `hours` is what the package declares and certificates print */
  studyTime: StudyTime;
  /** the authoring-rule figures of each language's assessment */
  reports: Record<string, AssessmentReport>;
}

/** Fields a writer used to state by hand and the build now derives: say so instead of "unknown key". */
function rejectDerived(file: string, data: unknown, field: string): void {
  if (data && typeof data === 'object' && field in data)
    throw new CourseSourceError(`${file}: ${field}: computed by the build from the text (see content/README.md); remove this line`);
}

function readYaml(file: string): unknown {
  try {
    return yaml.load(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CourseSourceError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}${YAML_TIP}`);
  }
}

const YAML_TIP = ' (tip: write text that contains ": " between double quotes)';

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/;

export function readLesson(file: string, key: string): LessonSource {
  const raw = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const m = FRONT_MATTER.exec(raw);
  if (!m) throw new CourseSourceError(`${file}: must start with a "---" front matter block (title, minutes, objectives)`);
  let fm: unknown;
  try {
    fm = yaml.load(m[1]);
  } catch (err) {
    throw new CourseSourceError(`${file}: front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}${YAML_TIP}`);
  }
  rejectDerived(file, fm, 'minutes');
  const parsed = lessonFrontMatterSchema.safeParse(fm);
  if (!parsed.success) throw new CourseSourceError(describeIssues(file, parsed.error));
  const markdown = m[2];
  if (/^#\s/m.test(markdown))
    throw new CourseSourceError(`${file}: use "##" and "###" headings; the page makes the title the only level-1 heading`);
  const images = [...markdown.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((x) => x[1]);
  for (const src of images) {
    if (/^[a-z]+:/i.test(src) || src.startsWith('/') || src.includes('..')) {
      throw new CourseSourceError(`${file}: image "${src}" must be a file shipped in the same folder`);
    }
    if (!existsSync(path.join(path.dirname(file), src))) throw new CourseSourceError(`${file}: image "${src}" not found`);
  }
  return { key, meta: parsed.data, markdown, minutes: readingMinutes(lessonWords(parsed.data, markdown)) };
}

export function loadCourse(dir: string): CourseSource {
  const courseFile = path.join(dir, 'course.yaml');
  if (!existsSync(courseFile)) throw new CourseSourceError(`${dir}: no course.yaml`);
  const raw = readYaml(courseFile);
  rejectDerived(courseFile, raw, 'hours');
  const parsed = courseYamlSchema.safeParse(raw);
  if (!parsed.success) throw new CourseSourceError(describeIssues(courseFile, parsed.error));
  const meta = parsed.data;
  const folder = path.basename(dir).replace(/^\d+-/, '');
  if (folder !== meta.slug)
    throw new CourseSourceError(`${courseFile}: slug "${meta.slug}" does not match the folder name "${path.basename(dir)}"`);

  const present = readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isDirectory());
  for (const l of meta.languages) {
    if (!present.includes(l)) throw new CourseSourceError(`${dir}: languages lists "${l}" but there is no ${l}/ folder`);
  }

  const lessonKeys = meta.blocks.flatMap((b) => b.aus).filter((a) => a !== 'assessment');
  const lessons: Record<string, LessonSource[]> = {};
  const assessments: Record<string, Assessment> = {};
  for (const l of meta.languages) {
    lessons[l] = lessonKeys.map((k) => {
      const f = path.join(dir, l, `${k}.md`);
      if (!existsSync(f)) throw new CourseSourceError(`${f}: missing (listed in course.yaml blocks)`);
      return readLesson(f, k);
    });
    const af = path.join(dir, l, 'assessment.yaml');
    if (!existsSync(af)) throw new CourseSourceError(`${af}: missing`);
    const a = assessmentSchema.safeParse(readYaml(af));
    if (!a.success) throw new CourseSourceError(describeIssues(af, a.error));
    assessments[l] = a.data;
  }

  const reports: Record<string, AssessmentReport> = {};
  const problems: string[] = [];
  for (const l of meta.languages) {
    reports[l] = assessmentReport(assessments[l]);
    problems.push(...assessmentProblems(path.join(dir, l, 'assessment.yaml'), assessments[l]));
  }
  if (problems.length) throw new CourseSourceError(problems.join('\n'));

  // Every language version is scored the same way: same questions, same number of options, same key.
  const ref = assessments.es;
  for (const l of meta.languages as Lang[]) {
    const a = assessments[l];
    const af = path.join(dir, l, 'assessment.yaml');
    if (a.ask !== ref.ask) throw new CourseSourceError(`${af}: ask: ${a.ask}, but es/assessment.yaml asks ${ref.ask}`);
    if (a.questions.length !== ref.questions.length) {
      throw new CourseSourceError(`${af}: ${a.questions.length} questions, but es/assessment.yaml has ${ref.questions.length}`);
    }
    a.questions.forEach((q, i) => {
      const r = ref.questions[i];
      const key = (x: typeof q) => x.options.map((o) => (o.correct ? 1 : 0)).join('');
      if (q.multiple !== r.multiple || key(q) !== key(r)) {
        throw new CourseSourceError(
          `${af}: ${q.id}: options or correct answers differ from es/assessment.yaml (keep the same order in every language)`,
        );
      }
    });
  }
  return { dir, meta, lessons, assessments, studyTime: studyTime(lessons.es, assessments.es), reports };
}

/** Course folders under `root` (`NN-slug`), in name order. */
export function courseDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((f) => /^\d+-[a-z0-9-]+$/.test(f) && existsSync(path.join(root, f, 'course.yaml')))
    .sort()
    .map((f) => path.join(root, f));
}
