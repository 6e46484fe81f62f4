import { expect } from 'chai';
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
});
