import { expect } from 'chai';
import { countriesFromExport, mergeCountries, regionGroups } from '../../server/plugins/network/region';

/** The dashboard's regional figures from hubs' JSON exports (the three-instance test reads real hubs). */
describe('network: the region merged from hubs’ exports', () => {
  const T = '_T';
  const obs = (
    country: string,
    publisher: string,
    month: string,
    level: string,
    tier: string,
    dm: string,
    servants: number | null,
    trained: number | null,
  ) => ({
    country,
    publisher,
    month,
    level,
    tier,
    decisionMakers: dm,
    suppressed: servants === null,
    servants,
    trained,
  });
  // One set: the total, a level, a tier, the decision-makers and a cell the dashboard does not compare.
  const set = (country: string, publisher: string, month: string, n: number, k: number) => [
    obs(country, publisher, '2026-01', T, T, T, n, 0),
    obs(country, publisher, month, T, T, T, n, k),
    obs(country, publisher, month, 'national', T, T, n, k),
    obs(country, publisher, month, T, 'technical', T, n - 5, 1),
    obs(country, publisher, month, T, T, 'yes', 10, 2),
    obs(country, publisher, month, 'national', 'technical', 'no', 6, 1),
  ];
  const exportOf = (...sets: Array<{ country: string; publisher: string; generatedAt: string; observations: unknown[] }>) => ({
    countries: sets.map(({ observations: _o, ...c }) => c),
    observations: sets.flatMap((s) => s.observations),
  });

  it('takes each country at its latest month, one set per run of observations, dated by its entry', () => {
    const hub = exportOf(
      { country: 'AAA', publisher: 'A', generatedAt: '2026-02-01T00:00:00Z', observations: set('AAA', 'A', '2026-02', 100, 50) },
      // The same country followed at a second address, an older set: a second run of the same key.
      { country: 'AAA', publisher: 'A', generatedAt: '2026-01-15T00:00:00Z', observations: set('AAA', 'A', '2026-02', 90, 10) },
      { country: 'BBB', publisher: 'B', generatedAt: '2026-02-01T00:00:00Z', observations: set('BBB', 'B', '2026-02', 40, 4) },
    );
    const countries = countriesFromExport(hub)!;
    expect(countries.map((c) => [c.key, c.generatedAt, c.month])).to.deep.equal([
      ['AAA|A', '2026-02-01T00:00:00Z', '2026-02'],
      ['AAA|A', '2026-01-15T00:00:00Z', '2026-02'],
      ['BBB|B', '2026-02-01T00:00:00Z', '2026-02'],
    ]);
    expect(countries[0].groups.has('national|technical|no')).to.equal(false);
    const r = regionGroups(mergeCountries([countries]))!;
    // AAA once, its newest set: 100 + 40 servants, 50 + 4 trained.
    expect(r.total).to.deep.equal({ countries: 2, of: 2, servants: 140, trained: 54, share: 0.3857, month: '2026-02' });
    expect(r.byLevel.national).to.include({ countries: 2, servants: 140 });
    expect(r.byTier.technical).to.include({ countries: 2, servants: 130, trained: 2 });
    expect(r.decisionMakers).to.include({ countries: 2, servants: 20, trained: 4 });
  });

  it('merges hubs: a country two hubs hold counts once (the newest), a confidential group adds nothing', () => {
    const c = exportOf(
      { country: 'AAA', publisher: 'A', generatedAt: '2026-02-02T00:00:00Z', observations: set('AAA', 'A', '2026-02', 120, 60) },
      { country: 'BBB', publisher: 'B', generatedAt: '2026-02-01T00:00:00Z', observations: set('BBB', 'B', '2026-02', 40, 4) },
    );
    const b = exportOf(
      { country: 'AAA', publisher: 'A', generatedAt: '2026-01-01T00:00:00Z', observations: set('AAA', 'A', '2026-01', 80, 8) },
      {
        country: 'CCC',
        publisher: 'C',
        generatedAt: '2026-02-01T00:00:00Z',
        observations: [obs('CCC', 'C', '2026-02', T, T, T, 30, 3), obs('CCC', 'C', '2026-02', T, T, 'yes', null, null)],
      },
    );
    const r = regionGroups(mergeCountries([countriesFromExport(c)!, countriesFromExport(b)!]))!;
    expect(r.total).to.include({ countries: 3, of: 3, servants: 190, trained: 67 });
    expect(r.decisionMakers).to.include({ countries: 2, of: 3, servants: 20 });
    expect(r.byLevel.national).to.include({ countries: 2, of: 3 });
  });

  it('reads nothing from what is not an export', () => {
    for (const body of [null, 'text', 42, {}, { observations: 'x' }]) expect(countriesFromExport(body)).to.equal(null);
    expect(countriesFromExport({ observations: [null, 1, 'x', { country: 3 }, { country: 'AAA', month: 5 }] })).to.deep.equal([]);
    expect(regionGroups([])).to.equal(null);
  });
});
