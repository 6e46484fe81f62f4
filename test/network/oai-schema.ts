/**
 * The OAI-PMH 2.0 response schema, for validating our responses in tests. It is not ours to
 * copy into the repository; a copy ships in the pyoai package on PyPI (its test data), which we
 * download with pip once into .cache/ and check by its SHA-256. That copy reads the contents of
 * <metadata> with processContents="skip": the envelope is validated by the schema, the Dublin
 * Core and LOM records by the tests' own checks. `npx tsx test/network/oai-schema.ts` fetches it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../server/core/config';

const FILE = path.join(ROOT, '.cache', 'oai-pmh', 'OAI-PMH.xsd');
const SHA256 = '1da2a22b2b7753700a5dbf74fef663714927be49a7404b53627a2fdf4e011fc9';
const PACKAGE = 'pyoai==2.5.0';
const MEMBER = 'pyoai-2.5.0/src/oaipmh/tests/OAI-PMH.xsd';

export function oaiSchema(): string {
  if (!existsSync(FILE)) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'oai-schema-'));
    try {
      execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--no-binary', ':all:', '-d', tmp, PACKAGE], {
        stdio: 'inherit',
      });
      execFileSync('tar', ['-xzf', path.join(tmp, 'pyoai-2.5.0.tar.gz'), '-C', tmp, MEMBER]);
      const xsd = readFileSync(path.join(tmp, MEMBER));
      const got = createHash('sha256').update(xsd).digest('hex');
      if (got !== SHA256) throw new Error(`OAI-PMH.xsd from ${PACKAGE} has SHA-256 ${got}, expected ${SHA256}`);
      mkdirSync(path.dirname(FILE), { recursive: true });
      writeFileSync(FILE, xsd);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const xsd = readFileSync(FILE);
  if (createHash('sha256').update(xsd).digest('hex') !== SHA256) throw new Error(`${FILE} is not the expected schema; delete it`);
  return xsd.toString('utf8');
}

if (require.main === module) {
  oaiSchema();
  console.log(`OAI-PMH schema ready: ${FILE}`);
}
