/**
 * jest-puppeteer settings for running CATAPULT's LMS test suite with Debian's Chromium (the suite
 * is installed with PUPPETEER_SKIP_DOWNLOAD=1): pass it as JEST_PUPPETEER_CONFIG.
 */
module.exports = {
  launch: {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: process.env.HEADLESS !== 'false',
    // --no-sandbox only where Chromium cannot create its sandbox (containers running as root).
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  },
};
