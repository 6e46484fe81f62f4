/**
 * Browser helpers for the content tests: Debian's chromium driven by playwright-core, axe-core
 * injected into pages, and a static server that serves AU files the way the catalog's content
 * route does (sandboxed opaque origin + CORS), so pages are tested under the same constraints.
 */
export { CHROMIUM, launchBrowser, seriousViolations, describeViolations, type AxeViolation } from '../browser';
export { contentServer, dirServer, type RunningServer as StaticServer } from '../../content/tools/serve-content';
