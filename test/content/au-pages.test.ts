import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_OUT } from '../../content/tools/build-library';
import { UI } from '../../content/runtime/strings';
import { builtFixture, builtLibrary } from './library';
import { describeViolations, dirServer, launchBrowser, seriousViolations, type StaticServer } from './browser';

const auKeys = (dir: string) =>
  readdirSync(dir)
    .filter((d) => existsSync(path.join(dir, d, 'index.html')))
    .sort();

describe('content AU pages in headless Chromium @browser', function () {
  this.timeout(300_000);
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let fixtureSlug: string;

  before(async () => {
    const fixture = await builtFixture();
    await builtLibrary();
    fixtureSlug = fixture.courses[0].slug;
    server = await dirServer({ fixture: path.dirname(fixture.courses[0].dir), library: DEFAULT_OUT });
    browser = await launchBrowser();
    context = await browser.newContext();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(root: 'fixture' | 'library', slug: string, au: string, page?: Page): Promise<Page> {
    const p = page ?? (await context.newPage());
    await p.goto(`${server.url}/${root}/${slug}/${au}/index.html`);
    // The script ran and, without an LMS, says so in the status region.
    await p.waitForFunction(() => (document.getElementById('au-status')?.textContent ?? '').length > 0);
    return p;
  }

  it('every AU page of every course has no serious or critical axe violations (standalone state)', async () => {
    const pages: Array<['fixture' | 'library', string, string]> = [];
    for (const c of (await builtFixture()).courses) for (const au of auKeys(c.dir)) pages.push(['fixture', c.slug, au]);
    for (const c of (await builtLibrary()).courses) for (const au of auKeys(c.dir)) pages.push(['library', c.slug, au]);
    expect(pages.length).to.be.at.least(8);
    const page = await context.newPage();
    const problems: string[] = [];
    for (const [root, slug, au] of pages) {
      await open(root, slug, au, page);
      // An assessment's questions come from the LMS, which draws and scores them: alone, it says so.
      expect(await page.textContent('#au-status')).to.equal(au === 'assessment' ? UI.es.platformOnly : UI.es.standalone);
      expect((await page.textContent('h1'))!.trim().length).to.be.above(3);
      const v = await seriousViolations(page);
      if (v.length) problems.push(`${slug}/${au}:\n${describeViolations(v)}`);
    }
    await page.close();
    expect(problems, problems.join('\n\n')).to.deep.equal([]);
  });

  it('switches language by fetching the fragment cross-origin from the sandboxed page', async () => {
    const page = await open('fixture', fixtureSlug, 'lesson-1');
    expect(await page.evaluate(() => self.origin)).to.equal('null'); // opaque origin, as under the catalog's CSP
    await page.click('[data-au-lang="en"]');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('h1')).to.equal('Lesson 1: publishing open data');
    expect(await page.textContent('#au-course')).to.equal('Open data at the office (test course)');
    expect(await page.getAttribute('[data-au-lang="en"]', 'aria-pressed')).to.equal('true');
    expect(await page.title()).to.contain('Lesson 1');
    expect(describeViolations(await seriousViolations(page))).to.equal('');
    await page.close();
  });

  it('fits a phone screen without horizontal scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    const c = (await builtLibrary()).courses[0] ?? (await builtFixture()).courses[0];
    for (const [root, slug] of [
      ['fixture', fixtureSlug],
      ['library', c.slug],
    ] as const) {
      for (const au of ['lesson-1', 'assessment']) {
        await open(root, slug, au, page);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${slug}/${au}`).to.be.at.most(0);
      }
    }
    await phone.close();
  });
});
