/** Activities and their definitions (xAPI Data 2.4.4.1). */
import { XAPI_INTERACTION_TYPES as INTERACTION_TYPES } from '../../../core/contracts/lrs';
import { allowOnly, arr, extensions, invalid, iri, irl, langMap, obj, objectType, str, type Obj } from './primitives';

const COMPONENT_LISTS: Record<string, string[]> = {
  choices: ['choice', 'sequencing'],
  scale: ['likert'],
  source: ['matching'],
  target: ['matching'],
  steps: ['performance'],
};

function components(v: unknown, path: string): void {
  const seen = new Set<string>();
  arr(v, path).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const o = obj(c, p);
    allowOnly(o, p, ['id', 'description']);
    const id = str(o.id, `${p}.id`);
    if (seen.has(id)) throw invalid(`${p}.id`, `duplicates another interaction component id "${id}"`);
    seen.add(id);
    if (o.description !== undefined) langMap(o.description, `${p}.description`);
  });
}

export function definition(v: unknown, path: string): void {
  const d = obj(v, path);
  allowOnly(d, path, [
    'name',
    'description',
    'type',
    'moreInfo',
    'extensions',
    'interactionType',
    'correctResponsesPattern',
    ...Object.keys(COMPONENT_LISTS),
  ]);
  if (d.name !== undefined) langMap(d.name, `${path}.name`);
  if (d.description !== undefined) langMap(d.description, `${path}.description`);
  if (d.type !== undefined) iri(d.type, `${path}.type`);
  if (d.moreInfo !== undefined) irl(d.moreInfo, `${path}.moreInfo`);
  if (d.extensions !== undefined) extensions(d.extensions, `${path}.extensions`);
  if (d.interactionType !== undefined && (typeof d.interactionType !== 'string' || !INTERACTION_TYPES.includes(d.interactionType))) {
    throw invalid(`${path}.interactionType`, `must be one of ${INTERACTION_TYPES.join(', ')}`);
  }
  if (d.correctResponsesPattern !== undefined) {
    if (d.interactionType === undefined) throw invalid(`${path}.correctResponsesPattern`, 'needs an interactionType');
    arr(d.correctResponsesPattern, `${path}.correctResponsesPattern`).forEach((s, i) => str(s, `${path}.correctResponsesPattern[${i}]`));
  }
  for (const [list, types] of Object.entries(COMPONENT_LISTS)) {
    if (d[list] === undefined) continue;
    if (!types.includes(d.interactionType as string))
      throw invalid(`${path}.${list}`, `is only allowed with interactionType ${types.join(' or ')}`);
    components(d[list], `${path}.${list}`);
  }
}

export function activity(v: unknown, path: string): Obj {
  const o = obj(v, path);
  allowOnly(o, path, ['objectType', 'id', 'definition']);
  objectType(o, path, ['Activity']);
  if (o.id === undefined) throw invalid(`${path}.id`, 'is required');
  iri(o.id, `${path}.id`);
  if (o.definition !== undefined) definition(o.definition, `${path}.definition`);
  return o;
}
