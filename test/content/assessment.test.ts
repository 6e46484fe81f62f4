import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCourse } from '../../content/tools/load-course';
import { DEFAULT_SRC } from '../../content/tools/build-library';
import { isRight, score, type AnswerKey } from '../../content/runtime/scoring';
import { FIXTURE_SRC, allBuilt } from './library';

/** The answer key exactly as the built page ships it (what the browser scores with). */
function shippedKey(courseDir: string, lang: string): AnswerKey {
  const html = readFileSync(path.join(courseDir, 'assessment', `${lang}.html`), 'utf8');
  const m = /<script type="application\/json" class="au-key">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error(`${courseDir}: no answer key in assessment/${lang}.html`);
  return JSON.parse(m[1]) as AnswerKey;
}

function sourceDir(slug: string): string {
  for (const root of [FIXTURE_SRC, DEFAULT_SRC]) {
    const hit = readdirSync(root).find((d) => d.replace(/^\d+-/, '') === slug);
    if (hit) return path.join(root, hit);
  }
  throw new Error(`no sources for ${slug}`);
}

describe('content build: assessments', function () {
  this.timeout(60_000);

  it('every assessment ships exactly the answers its source marks correct, and its mastery score', async () => {
    for (const c of await allBuilt()) {
      const src = loadCourse(sourceDir(c.slug));
      for (const lang of src.meta.languages) {
        const key = shippedKey(c.dir, lang);
        expect(key.masteryScore).to.equal(src.meta.masteryScore);
        const expected = src.assessments[lang].questions.map((q) => ({
          id: q.id,
          correct: q.options.flatMap((o, i) => (o.correct ? [i] : [])),
        }));
        expect(key.questions, `${c.slug}/${lang}`).to.deep.equal(expected);
        // The form offers one input per option, named after the question.
        const html = readFileSync(path.join(c.dir, 'assessment', `${lang}.html`), 'utf8');
        for (const q of src.assessments[lang].questions) {
          const inputs = html.match(new RegExp(`name="${q.id}" id="${q.id}-o\\d+"`, 'g')) ?? [];
          expect(inputs.length, `${c.slug}/${lang}/${q.id}`).to.equal(q.options.length);
        }
      }
    }
  });

  it('the scorer accepts exactly the correct options of each question, no subset and no superset', async () => {
    for (const c of await allBuilt()) {
      const key = shippedKey(c.dir, 'es');
      const src = loadCourse(sourceDir(c.slug)).assessments.es;
      key.questions.forEach((q, qi) => {
        const n = src.questions[qi].options.length;
        expect(isRight(q.correct, q.correct), `${c.slug} ${q.id}`).to.equal(true);
        for (let i = 0; i < n; i++) {
          // Toggling any single option (adding a wrong one, dropping a right one) makes it wrong.
          const toggled = q.correct.includes(i) ? q.correct.filter((x) => x !== i) : [...q.correct, i];
          expect(isRight(q.correct, toggled), `${c.slug} ${q.id} toggling option ${i}`).to.equal(false);
        }
      });
    }
  });

  it('all answers right scores 1.0 ≥ masteryScore; one wrong answer passes or fails as the arithmetic says', async () => {
    for (const c of await allBuilt()) {
      const key = shippedKey(c.dir, 'es');
      const right = Object.fromEntries(key.questions.map((q) => [q.id, q.correct]));
      const all = score(key, right);
      expect([all.scaled, all.raw, all.max, all.passed]).to.deep.equal([1, key.questions.length, key.questions.length, true]);
      expect(all.scaled).to.be.at.least(key.masteryScore);

      const n = key.questions.length;
      const firstWrong = key.questions[0];
      const wrongOption = [0, 1, 2, 3, 4].find((i) => !firstWrong.correct.includes(i))!;
      const oneWrong = score(key, { ...right, [firstWrong.id]: [wrongOption] });
      expect(oneWrong.raw).to.equal(n - 1);
      expect(oneWrong.scaled).to.be.closeTo((n - 1) / n, 1e-4);
      expect(oneWrong.passed, c.slug).to.equal((n - 1) / n >= key.masteryScore - 1e-9);
      expect(oneWrong.perQuestion[firstWrong.id]).to.equal(false);

      // The least number right that still passes, and one fewer that fails.
      const needed = Math.ceil(key.masteryScore * n - 1e-9);
      const withRight = (k: number) => Object.fromEntries(key.questions.map((q, i) => [q.id, i < k ? q.correct : []]));
      expect(score(key, withRight(needed)).passed, `${c.slug}: ${needed}/${n}`).to.equal(true);
      expect(score(key, withRight(needed - 1)).passed, `${c.slug}: ${needed - 1}/${n}`).to.equal(false);
      // A mastery score sent by the LMS in LMS.LaunchData takes precedence.
      expect(score(key, withRight(n - 1), 1).passed).to.equal(false);
    }
  });
});
