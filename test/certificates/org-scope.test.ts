import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { certificatesPlugin } from '../../server/plugins/certificates';
import { lrsPlugin } from '../../server/plugins/lrs';
import { reportsPlugin } from '../../server/plugins/reports';
import { makeUser, settled, signIn, testApp } from '../helpers';
import { course, satisfied } from './helpers';

describe('certificates: HR scope follows the organisation tree of the reports plugin', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin, reportsPlugin, certificatesPlugin] });
    const org = lms.services.get('org.scope') as unknown as { save(u: Record<string, unknown>): Promise<unknown> };
    await org.save({ code: 'PAIS', name: 'País', kind: 'country' });
    await org.save({ code: 'PAIS-NAC', name: 'Gobierno nacional', kind: 'level', parent: 'PAIS', level: 'national' });
    await org.save({ code: 'MIN-SALUD', name: 'Ministerio de Salud', kind: 'institution', parent: 'PAIS-NAC', level: 'national' });
    await org.save({ code: 'MIN-SALUD-TI', name: 'Oficina de TI', kind: 'unit', parent: 'MIN-SALUD', level: 'national' });
    await org.save({ code: 'MIN-EDU', name: 'Ministerio de Educación', kind: 'institution', parent: 'PAIS-NAC', level: 'national' });
  });
  after(() => lms.close());

  it('an officer of an institution sees its units too; an officer of a unit sees only that unit', async () => {
    const issue = async (orgUnit: string, name: string) => {
      const u = await makeUser(lms, { orgUnit, name, tier: 'all', level: 'national' });
      await lms.hooks.emit('catalog.course.satisfied', satisfied(u.id, course()));
      await settled(lms);
    };
    await issue('MIN-SALUD', 'Sara Salud');
    await issue('MIN-SALUD-TI', 'Tomás Tecnología');
    await issue('MIN-EDU', 'Elena Educación');

    const top = await makeUser(lms, { role: 'hr', orgUnit: 'MIN-SALUD' });
    const topList = (await (await signIn(lms, top.email, top.password)).get('/certificates/manage').expect(200)).text;
    expect(topList).to.contain('Sara Salud').and.contain('Tomás Tecnología').and.not.contain('Elena Educación');

    const unit = await makeUser(lms, { role: 'hr', orgUnit: 'MIN-SALUD-TI' });
    const unitList = (await (await signIn(lms, unit.email, unit.password)).get('/certificates/manage').expect(200)).text;
    expect(unitList).to.contain('Tomás Tecnología').and.not.contain('Sara Salud').and.not.contain('Elena Educación');
  });
});
