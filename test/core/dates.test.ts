import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../server/core/config';
import { formatDate } from '../../server/core/dates';

describe('core: dates in the deployment time zone', () => {
  const t = new Date('2026-03-01T02:30:00Z'); // still 28 February in Bogotá and São Paulo

  it('shows the local date and time, in the reader’s language', () => {
    expect(formatDate(t, 'es', 'America/Bogota', 'dateTime')).to.match(/28 feb.* 2026.*21:30/);
    expect(formatDate(t, 'pt', 'America/Sao_Paulo', 'dateTime')).to.match(/28 de fev.* 2026.*23:30/);
    expect(formatDate(t, 'en', 'UTC', 'day')).to.match(/Mar 1, 2026/);
  });

  it('defaults to America/Bogota and refuses an unknown TIME_ZONE naming it', () => {
    expect(loadConfig({ DATA_DIR: '/tmp', SESSION_SECRET: 'x'.repeat(20) }).timeZone).to.equal('America/Bogota');
    expect(loadConfig({ DATA_DIR: '/tmp', SESSION_SECRET: 'x'.repeat(20), TIME_ZONE: 'America/Sao_Paulo' }).timeZone).to.equal(
      'America/Sao_Paulo',
    );
    expect(() => loadConfig({ DATA_DIR: '/tmp', SESSION_SECRET: 'x'.repeat(20), TIME_ZONE: 'Mars/Olympus' })).to.throw(
      /TIME_ZONE: "Mars\/Olympus"/,
    );
  });
  it('no page prints a raw UTC timestamp: ISO strings only in datetime or form values', () => {
    // A UTC time read as local is hours off in the Americas (an audit entry at 02:30 UTC happened
    // the evening before in Bogotá); pages show dateTime()/day() in TIME_ZONE instead.
    const views = path.join(__dirname, '..', '..', 'views');
    const offenders: string[] = [];
    for (const file of readdirSync(views, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ejs'))) {
      readFileSync(path.join(views, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const shown = line.replace(/(datetime|value)="<%=[^%]*%>"/g, '');
          if (/toISOString\(\)|toUTCString\(\)/.test(shown)) offenders.push(`${file}:${i + 1}`);
        });
    }
    expect(offenders).to.deep.equal([]);
  });
});
