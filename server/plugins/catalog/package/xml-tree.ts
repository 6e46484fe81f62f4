import { XMLParser } from 'fast-xml-parser';

/** An element with its namespace resolved: the cmi5 rules depend on namespaces, not on prefixes. */
export interface XmlElement {
  ns: string;
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text content, untrimmed. */
  text: string;
}

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  commentPropName: '#comment',
});

/** Parses well-formed XML (already checked by xmllint) into a namespace-aware tree. */
export function parseXmlTree(xml: string): XmlElement {
  const nodes = parser.parse(xml) as Ordered[];
  const root = build(nodes, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  if (root.length !== 1) throw new Error('XML document must have exactly one root element');
  return root[0];
}

function build(nodes: Ordered[], scope: Map<string, string>): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (!tag || tag === '#text' || tag === '#comment' || tag.startsWith('?')) continue;
    const attrsIn = node[':@'] ?? {};
    const local = new Map(scope);
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrsIn)) {
      if (k === 'xmlns') local.set('', v);
      else if (k.startsWith('xmlns:')) local.set(k.slice(6), v);
      else attrs[k] = v;
    }
    const colon = tag.indexOf(':');
    const prefix = colon >= 0 ? tag.slice(0, colon) : '';
    const name = colon >= 0 ? tag.slice(colon + 1) : tag;
    const inner = (node[tag] as Ordered[]) ?? [];
    const text = inner.map((c) => (typeof c['#text'] === 'string' || typeof c['#text'] === 'number' ? String(c['#text']) : '')).join('');
    out.push({ ns: local.get(prefix) ?? '', name, attrs, children: build(inner, local), text });
  }
  return out;
}
