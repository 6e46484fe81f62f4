import { expect } from 'chai';
import type { BrowserContext } from 'playwright-core';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { testApp } from '../helpers';
import { crawl, ROLES, routePaths, seedDemoSite, type DemoSite, type Role } from '../site-pages';

const PHONE = { width: 375, height: 740 };

describe('core: every page on a 375 px phone @browser', function () {
  this.timeout(900_000);
  const s = browserSuite(() => testApp());
  let site: DemoSite;
  before(async () => {
    site = await seedDemoSite(s.lms);
  });

  async function phoneAs(role: Role): Promise<BrowserContext> {
    // bypassCSP only lets the test inject axe-core; the pages keep their strict CSP.
    const context = await s.browser.newContext({ viewport: PHONE, locale: 'es-ES', bypassCSP: true });
    if (role !== 'anonymous') await signInPage(await context.newPage(), s.url, site.users[role]);
    return context;
  }

  for (const role of ROLES) {
    it(`as ${role}: no page scrolls sideways and none has a serious axe violation`, async () => {
      const context = await phoneAs(role);
      const page = await context.newPage();
      const problems: string[] = [];
      const seen = new Set<string>();
      const visited = await crawl(routePaths(s.lms, site), async (path) => {
        // Downloads (CSV, PDF, JSON, zip) are not pages; the request shares the page's cookies.
        const head = await context.request.get(s.url + path, { maxRedirects: 5 });
        if (!(head.headers()['content-type'] ?? '').startsWith('text/html')) return undefined;
        // Guarded pages send a visitor to the sign-in page: look at each page once.
        const landed = new URL(head.url());
        if (landed.pathname + landed.search !== path && seen.has(landed.pathname + landed.search)) return undefined;
        seen.add(landed.pathname + landed.search);
        await page.goto(s.url + path);
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        if (scrollWidth > clientWidth) {
          const wide = await page.evaluate((w) => {
            const out: string[] = [];
            for (const el of Array.from(document.querySelectorAll('body *'))) {
              const r = el.getBoundingClientRect();
              if (r.right > w + 1 && !el.closest('.table-scroll'))
                out.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className) : ''}`);
            }
            return out.slice(0, 5).join(', ');
          }, clientWidth);
          problems.push(`${path}: ${scrollWidth} px wide (${wide})`);
        }
        const v = await seriousViolations(page);
        if (v.length) problems.push(`${path}: ${describeViolations(v)}`);
        return page.content();
      });
      await context.close();
      expect(problems, problems.join('\n')).to.deep.equal([]);
      // The crawl really reached the pages of this role.
      expect(visited.length).to.be.greaterThan(role === 'anonymous' ? 3 : 8);
    });
  }

  it('the menu collapses behind a button with aria-expanded, opened and closed by keyboard', async () => {
    const context = await phoneAs('admin');
    const page = await context.newPage();
    await page.goto(`${s.url}/`);
    const toggle = page.locator('.menu-toggle');
    expect(await toggle.isVisible()).to.equal(true);
    expect(await toggle.getAttribute('aria-expanded')).to.equal('false');
    expect(await page.locator('#site-menu').isVisible()).to.equal(false);
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).to.equal('true');
    expect(await page.locator('#site-menu a').first().isVisible()).to.equal(true);
    await page.keyboard.press('Escape');
    expect(await toggle.getAttribute('aria-expanded')).to.equal('false');
    expect(await page.evaluate(() => document.activeElement?.className)).to.contain('menu-toggle');
    // On a wide screen the list is simply there, without the button.
    await page.setViewportSize({ width: 1200, height: 800 });
    // The media query applies after the resize: wait for it (fails after 5 s if it never does).
    await toggle.waitFor({ state: 'hidden', timeout: 5000 });
    await page.locator('#site-menu').waitFor({ state: 'visible', timeout: 5000 });
    await context.close();
  });

  it('without JavaScript the menu is a visible list', async () => {
    const context = await s.browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    await signInPage(await context.newPage(), s.url, site.users.admin);
    const page = await context.newPage();
    await page.goto(`${s.url}/`);
    expect(await page.locator('.menu-toggle').isVisible()).to.equal(false);
    expect(await page.locator('#site-menu a').count()).to.be.greaterThan(3);
    expect(await page.locator('#site-menu a').first().isVisible()).to.equal(true);
    await context.close();
  });
});
