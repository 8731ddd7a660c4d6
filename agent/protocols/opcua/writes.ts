import { AttributeIds, NodeId, NodeIdType, coerceNodeId, findBasicDataType, type ClientSession, type DataValue, type StatusCode } from 'node-opcua';
import { errorMessage } from '../../errors';
import type { WriteRequest, WriteResult } from '../types';
import { parseNodeId } from './addressing';
import { variantToValue, type RawVariant } from './decode';
import { withTimeout } from './timeout';
import { WRITE_DATA_TYPES, builtInOf, sameValue, valueProblem, writeDataTypeOf, type WriteDataType } from './write-values';

type OpcuaWrite = Extract<WriteRequest, { kind: 'opcua' }>;

/** One value on its way: where it goes and as what, until it has a result. */
interface Pending {
  index: number;
  request: OpcuaWrite;
  nodeId: NodeId;
  dataType: WriteDataType | null;
}

/** Read back refused this way: the node cannot be read, so the server's Good is the only check there is. */
const NOT_READABLE = new Set(['BadNotReadable', 'BadUserAccessDenied']);

/**
 * Write values through `session`: NodeIds as the config writes them, each
 * value as its given data type or the node's own (its DataType attribute is
 * read first), all in one Write call, then each Good one read back in one
 * Read call. Every request is limited to `timeoutMs`. Never throws.
 */
export async function writeValues(session: ClientSession, values: readonly WriteRequest[], timeoutMs: number): Promise<WriteResult[]> {
  const results: WriteResult[] = values.map(() => ({ ok: false, reason: 'not written' }));
  const refuse = (p: Pending[], reason: string) => p.forEach((x) => (results[x.index] = { ok: false, reason }));

  let pending = await resolveNodes(session, values, results, timeoutMs);

  const untyped = pending.filter((p) => p.dataType === null);
  if (untyped.length > 0) {
    try {
      await readDataTypes(session, untyped, results, timeoutMs);
    } catch (err) {
      refuse(untyped, `cannot read the data type: ${errorMessage(err)}`);
    }
  }
  pending = pending.filter((p) => {
    if (p.dataType === null) return false;
    const problem = valueProblem(p.dataType, p.request.value);
    if (problem) results[p.index] = { ok: false, reason: problem };
    return problem === null;
  });
  if (pending.length === 0) return results;

  let statuses: StatusCode[];
  try {
    statuses = await withTimeout(
      session.write(
        pending.map((p) => ({
          nodeId: p.nodeId,
          attributeId: AttributeIds.Value,
          value: { value: { dataType: builtInOf(p.dataType!), value: p.request.value } },
        })),
      ),
      timeoutMs,
      'the server',
    );
  } catch (err) {
    refuse(pending, `the write did not complete (${errorMessage(err)}); the values may or may not have been written`);
    return results;
  }
  pending = pending.filter((p, k) => {
    const status = statuses[k];
    if (status?.isGood()) return true;
    results[p.index] = { ok: false, reason: status?.name ?? 'no status for this value' };
    return false;
  });
  if (pending.length === 0) return results;

  let read: DataValue[];
  try {
    read = await withTimeout(session.read(pending.map((p) => ({ nodeId: p.nodeId, attributeId: AttributeIds.Value }))), timeoutMs, 'the server');
  } catch (err) {
    refuse(pending, `written (Good), but not read back: ${errorMessage(err)}`);
    return results;
  }
  pending.forEach((p, k) => {
    const dv = read[k];
    const status = dv?.statusCode;
    if (!dv || !status?.isGood()) {
      const name = status?.name ?? 'no answer for this value';
      results[p.index] = NOT_READABLE.has(name)
        ? { ok: true, reason: `written (Good); the node cannot be read back (${name})` }
        : { ok: false, reason: `written (Good), but not read back: ${name}` };
      return;
    }
    const raw = dv.value?.value as unknown;
    const readBack = variantToValue(dv.value as unknown as RawVariant);
    results[p.index] = sameValue(p.dataType!, p.request.value, raw)
      ? { ok: true, readBack }
      : { ok: false, reason: `read back ${JSON.stringify(readBack)}, not ${JSON.stringify(p.request.value)}`, readBack };
  });
  return results;
}

/** NodeIds as the config writes them; `nsu=` looked up in the server's namespace table. Refusals go into `results`. */
async function resolveNodes(session: ClientSession, values: readonly WriteRequest[], results: WriteResult[], timeoutMs: number): Promise<Pending[]> {
  let namespaceArray: string[] | undefined;
  if (values.some((v) => v.kind === 'opcua' && v.nodeId.startsWith('nsu='))) {
    try {
      namespaceArray = await withTimeout(session.readNamespaceArray(), timeoutMs, 'the server');
    } catch (err) {
      const reason = `cannot read the namespace table: ${errorMessage(err)}`;
      values.forEach((v, i) => {
        if (v.kind === 'opcua' && v.nodeId.startsWith('nsu=')) results[i] = { ok: false, reason };
      });
    }
  }
  const pending: Pending[] = [];
  values.forEach((request, index) => {
    if (request.kind !== 'opcua') {
      results[index] = { ok: false, reason: `this OPC UA source writes only kind opcua values (got ${String(request.kind)})` };
      return;
    }
    const parsed = parseNodeId(request.nodeId);
    if (!parsed.ok) {
      results[index] = { ok: false, reason: `nodeId ${parsed.message}` };
      return;
    }
    if (request.nodeId.startsWith('nsu=') && !namespaceArray) return;
    try {
      const nodeId = coerceNodeId(request.nodeId, namespaceArray ? { namespaceArray } : undefined);
      pending.push({ index, request, nodeId, dataType: request.dataType ?? null });
    } catch (err) {
      results[index] = { ok: false, reason: `nodeId ${request.nodeId}: ${errorMessage(err)}` };
    }
  });
  return pending;
}

/** The built-in type behind each node's DataType attribute, in one Read call (a subtype such as Duration needs a browse up to Double). */
async function readDataTypes(session: ClientSession, pending: Pending[], results: WriteResult[], timeoutMs: number): Promise<void> {
  const read = await withTimeout(session.read(pending.map((p) => ({ nodeId: p.nodeId, attributeId: AttributeIds.DataType }))), timeoutMs, 'the server');
  for (const [k, p] of pending.entries()) {
    const dv = read[k];
    if (!dv?.statusCode.isGood()) {
      results[p.index] = { ok: false, reason: dv?.statusCode.name ?? 'no data type for this node' };
      continue;
    }
    const typeId = dv.value.value as NodeId;
    let builtIn: number;
    try {
      builtIn =
        typeId.namespace === 0 && typeId.identifierType === NodeIdType.NUMERIC && (typeId.value as number) <= 25
          ? (typeId.value as number)
          : await withTimeout(findBasicDataType(session, typeId), timeoutMs, 'the server');
    } catch (err) {
      results[p.index] = { ok: false, reason: `cannot tell the data type ${typeId.toString()}: ${errorMessage(err)}` };
      continue;
    }
    p.dataType = writeDataTypeOf(builtIn);
    if (p.dataType === null) {
      results[p.index] = { ok: false, reason: `the node's data type ${typeId.toString()} cannot be written (${WRITE_DATA_TYPES.join(', ')})` };
    }
  }
}
