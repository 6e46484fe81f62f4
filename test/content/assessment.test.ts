import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCourse } from '../../content/tools/load-course';
import { DEFAULT_SRC } from '../../content/tools/build-library';
import type { ItemBank } from '../../content/tools/item-bank';
import { MIN_BANK_FACTOR } from '../../content/tools/course-schema';
import { FIXTURE_SRC, allBuilt } from './library';

function sourceDir(slug: string): string {
  for (const root of [FIXTURE_SRC, DEFAULT_SRC]) {
    const hit = readdirSync(root).find((d) => d.replace(/^\d+-/, '') === slug);
    if (hit) return path.join(root, hit);
  }
  throw new Error(`no sources for ${slug}`);
}

const bankOf = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ItemBank;

describe('content build: assessments as item banks', function () {
  this.timeout(60_000);

  it('every bank holds exactly the questions, key and feedback of its sources in every language, and asks at most half of them', async () => {
    for (const c of await allBuilt()) {
      const src = loadCourse(sourceDir(c.slug));
      const bank = bankOf(c.bank);
      expect(bank.masteryScore).to.equal(src.meta.masteryScore);
      expect(bank.auId).to.equal(`${src.meta.id}/au/assessment`);
      expect(bank.ask).to.equal(src.assessments.es.ask);
      expect(bank.items.length, c.slug).to.be.at.least(MIN_BANK_FACTOR * bank.ask);
      for (const lang of src.meta.languages) {
        const qs = src.assessments[lang].questions;
        expect(bank.items.map((i) => i.text[lang])).to.deep.equal(qs.map((q) => q.text));
        bank.items.forEach((item, qi) => {
          expect(item.multiple).to.equal(qs[qi].multiple);
          expect(item.options.map((o) => [o.text[lang], o.feedback[lang], o.correct])).to.deep.equal(
            qs[qi].options.map((o) => [o.text, o.feedback, !!o.correct]),
          );
        });
      }
    }
  });

  it('no page of a package carries a question, an option or a feedback: the LMS hands them out per attempt', async () => {
    for (const c of await allBuilt()) {
      const bank = bankOf(c.bank);
      for (const f of readdirSync(path.join(c.dir, 'assessment'))) {
        const html = readFileSync(path.join(c.dir, 'assessment', f), 'utf8');
        expect(html).to.not.match(/correct|au-key/);
        for (const item of bank.items)
          for (const l of bank.languages) {
            expect(html, `${c.slug}/${f}`).to.not.contain(item.text[l]);
            for (const o of item.options) expect(html, `${c.slug}/${f}`).to.not.contain(o.feedback[l]);
          }
      }
      // The package names its bank by digest, so a changed bank is a new version of the course.
      expect(readFileSync(path.join(c.dir, 'cmi5.xml'), 'utf8')).to.match(/<meta:itemBank>sha256:[0-9a-f]{64}<\/meta:itemBank>/);
    }
  });
});
