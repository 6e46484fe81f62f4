import type { CliCommand } from '../../core/plugin';
import { loadTemplates } from './templates';

export const certificateCommands: CliCommand[] = [
  {
    name: 'certificates:templates',
    description: 'validate the certificate templates in certificates/templates and list them',
    async run() {
      // Loading the plugin already validated them; listing confirms which one serves which institution.
      for (const [name, tpl] of loadTemplates()) console.log(`${name.padEnd(16)} ${tpl.institution.es}  —  ${tpl.signatory.name}`);
    },
  },
  {
    name: 'certificates:resend-statements',
    description: 'send to the LRS the issuing statements it did not accept earlier (idempotent)',
    async run(rt) {
      const n = await rt.services.get('certificates').resendStatements();
      console.log(`${n} issuing statement(s) sent to the LRS`);
    },
  },
  {
    name: 'certificates:verify',
    description: 'print what the public verification page shows for a code',
    args: '<code>',
    async run(rt, _o, args) {
      const v = await rt.services.get('certificates').verify(args[0]);
      console.log(JSON.stringify(v, null, 2));
      return v.status === 'valid' ? 0 : 1;
    },
  },
];
