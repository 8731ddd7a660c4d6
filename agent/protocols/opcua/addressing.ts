/**
 * How a configured item names a variable on the OPC UA server: a NodeId text
 * or a browse path. Pure parsing, so a typo is a config error at load time,
 * never a surprise on the plant floor.
 */

/** A NodeId as written in the config file. */
export type ParsedNodeId = { ok: true; namespace: { index: number } | { uri: string }; identifier: string } | { ok: false; message: string };

const IDENTIFIER = /^(i=\d+|s=[\s\S]+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]+={0,2})$/;

const NODE_ID_HELP = 'a NodeId such as "ns=2;s=Line1.Counter", "ns=3;i=1001", "i=2258" or "nsu=urn:vendor:plc;s=Counter"';

/**
 * Check a NodeId text: `[ns=<index>;]<id>` or `nsu=<namespace uri>;<id>`, where `<id>` is
 * `i=<number>`, `s=<string>`, `g=<guid>` or `b=<base64>`. The `nsu=` form is resolved against
 * the server's namespace table on every connect, so it survives a server that renumbers its namespaces.
 */
export function parseNodeId(text: string): ParsedNodeId {
  const t = text.trim();
  if (t !== text || t.length === 0) return { ok: false, message: `must be ${NODE_ID_HELP} (no surrounding spaces)` };
  let rest = t;
  let namespace: { index: number } | { uri: string } = { index: 0 };
  const ns = /^ns=(\d{1,5});/.exec(rest);
  if (ns) {
    const index = Number(ns[1]);
    if (index > 65535) return { ok: false, message: `namespace index ${index} is larger than 65535` };
    namespace = { index };
    rest = rest.slice(ns[0].length);
  } else if (rest.startsWith('nsu=')) {
    const semi = rest.indexOf(';');
    const uri = semi > 4 ? rest.slice(4, semi) : '';
    if (uri.length === 0) return { ok: false, message: `the namespace URI after "nsu=" is empty; expected ${NODE_ID_HELP}` };
    namespace = { uri };
    rest = rest.slice(semi + 1);
  }
  if (!IDENTIFIER.test(rest)) return { ok: false, message: `"${text}" is not ${NODE_ID_HELP}` };
  if (rest.startsWith('i=') && Number(rest.slice(2)) > 0xffffffff) {
    return { ok: false, message: `numeric identifier ${rest.slice(2)} is larger than 4294967295` };
  }
  return { ok: true, namespace, identifier: rest };
}

/** One step of a browse path. */
export interface BrowsePathStep {
  /** `hierarchical` ("/"), `aggregates` ("."), or a named reference type ("<HasComponent>"). */
  reference: { kind: 'hierarchical' } | { kind: 'aggregates' } | { kind: 'named'; name: string; inverse: boolean; includeSubtypes: boolean };
  /** Browse name of the target: namespace index and name. */
  target: { namespaceIndex: number; name: string };
}

export type ParsedBrowsePath = { ok: true; steps: BrowsePathStep[] } | { ok: false; message: string };

const RESERVED = new Set(['/', '.', '<', '>', ':', '#', '!', '&']);

const BROWSE_PATH_HELP =
  'a browse path from the Root folder such as "/Objects/2:Line1/2:Counter" (namespace index, colon, browse name; "&" escapes / . < > : # ! &)';

/**
 * Parse an OPC UA relative path (OPC 10000-4, Annex A) that starts at the
 * server's Root folder, e.g. `/Objects/2:Line1/2:Counter` or `/Objects/2:Press.2:Pressure`.
 * Reference types in angle brackets must be standard ones (no namespace prefix).
 */
export function parseBrowsePath(text: string): ParsedBrowsePath {
  const steps: BrowsePathStep[] = [];
  let i = 0;
  const fail = (why: string): ParsedBrowsePath => ({ ok: false, message: `${why} at position ${i + 1} of "${text}"; expected ${BROWSE_PATH_HELP}` });
  if (text.length === 0) return { ok: false, message: `is empty; expected ${BROWSE_PATH_HELP}` };

  // <name> ::= (<name-char> | '&' <reserved-char>)+  ; stops at an unescaped reserved char
  const readName = (): string | null => {
    let out = '';
    while (i < text.length) {
      const c = text[i]!;
      if (c === '&') {
        const next = text[i + 1];
        if (next === undefined || !RESERVED.has(next)) return null;
        out += next;
        i += 2;
        continue;
      }
      if (RESERVED.has(c)) break;
      out += c;
      i += 1;
    }
    return out;
  };
  // <browse-name> ::= [<namespace-index> ':'] <name>
  const readBrowseName = (): { namespaceIndex: number; name: string } | null => {
    const m = /^(\d{1,5}):/.exec(text.slice(i));
    let namespaceIndex = 0;
    if (m) {
      namespaceIndex = Number(m[1]);
      if (namespaceIndex > 65535) return null;
      i += m[0].length;
    }
    const name = readName();
    if (name === null || name.length === 0) return null;
    return { namespaceIndex, name };
  };

  while (i < text.length) {
    const c = text[i]!;
    let reference: BrowsePathStep['reference'];
    if (c === '/') {
      reference = { kind: 'hierarchical' };
      i += 1;
    } else if (c === '.') {
      reference = { kind: 'aggregates' };
      i += 1;
    } else if (c === '<') {
      i += 1;
      let includeSubtypes = true;
      let inverse = false;
      if (text[i] === '#') {
        includeSubtypes = false;
        i += 1;
      }
      if (text[i] === '!') {
        inverse = true;
        i += 1;
      }
      if (/^\d{1,5}:/.test(text.slice(i))) return fail('a reference type with a namespace prefix is not supported');
      const name = readName();
      if (name === null || name.length === 0) return fail('missing reference type name');
      if (text[i] !== '>') return fail('missing ">"');
      i += 1;
      reference = { kind: 'named', name, inverse, includeSubtypes };
    } else {
      return fail(`unexpected "${c}" (each step starts with "/", "." or "<")`);
    }
    const target = readBrowseName();
    if (!target) return fail('missing or malformed browse name');
    steps.push({ reference, target });
  }
  return { ok: true, steps };
}
