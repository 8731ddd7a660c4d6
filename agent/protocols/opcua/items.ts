import {
  BrowsePath,
  NodeId,
  QualifiedName,
  RelativePath,
  RelativePathElement,
  coerceNodeId,
  readOperationLimits,
  resolveNodeId,
  type ClientSession,
} from 'node-opcua';
import { errorMessage } from '../../errors';
import { parseBrowsePath, type BrowsePathStep } from './addressing';
import type { OpcuaItemConfig, OpcuaSourceConfig } from './config';
import { withTimeout } from './timeout';

/** A configured item with where it lives on the server for the current session. */
export interface PlannedItem {
  subscription: number;
  config: OpcuaItemConfig;
  /** Text for logs and signal meta: the configured nodeId, or the resolved one for a browse path. */
  nodeIdText: string;
  nodeId: NodeId | null;
  failure: string | null;
  /** Shared by every signal of this item (frozen). */
  meta: Readonly<Record<string, unknown>>;
}

export interface OperationLimits {
  maxMonitoredItemsPerCall?: number;
  maxNodesPerTranslateBrowsePathsToNodeIds?: number;
}

/** The server's per-call limits, read once per session; empty when it does not tell. */
export class ServerLimits {
  private known: OperationLimits | null = null;

  constructor(private readonly timeoutMs: number) {}

  async of(session: ClientSession): Promise<OperationLimits> {
    if (!this.known) {
      try {
        this.known = await withTimeout(readOperationLimits(session), this.timeoutMs, 'reading operation limits');
      } catch {
        this.known = {};
      }
    }
    return this.known;
  }

  /** A new session (the server restarted): read them again when next needed. */
  forget(): void {
    this.known = null;
  }
}

/** Where each configured item lives on this server now: NodeIds as given (namespace URIs looked up), browse paths translated. */
export async function resolveItems(session: ClientSession, cfg: OpcuaSourceConfig, limits: ServerLimits): Promise<PlannedItem[]> {
  const plan: PlannedItem[] = [];
  const needsNamespaces = cfg.subscriptions.some((s) => s.items.some((i) => i.nodeId?.startsWith('nsu=')));
  const step = cfg.requestTimeoutMs * 2;
  const namespaceArray = needsNamespaces ? await withTimeout(session.readNamespaceArray(), step, 'reading the namespace table') : undefined;
  const pathItems: PlannedItem[] = [];
  const paths: BrowsePath[] = [];
  const root = resolveNodeId('RootFolder');

  cfg.subscriptions.forEach((sub, s) => {
    for (const item of sub.items) {
      const p: PlannedItem = {
        subscription: s,
        config: item,
        nodeIdText: item.nodeId ?? '',
        nodeId: null,
        failure: null,
        meta: Object.freeze({ nodeId: item.nodeId ?? '' }),
      };
      plan.push(p);
      if (item.nodeId !== undefined) {
        try {
          p.nodeId = coerceNodeId(item.nodeId, namespaceArray ? { namespaceArray } : undefined);
        } catch (err) {
          p.failure = `nodeId ${item.nodeId}: ${errorMessage(err)}`;
        }
      } else {
        const parsed = parseBrowsePath(item.browsePath!);
        if (!parsed.ok) {
          p.failure = `browsePath ${parsed.message}`;
          continue;
        }
        try {
          paths.push(new BrowsePath({ startingNode: root, relativePath: relativePath(parsed.steps) }));
          pathItems.push(p);
        } catch (err) {
          p.failure = `browsePath ${item.browsePath}: ${errorMessage(err)}`;
        }
      }
    }
  });

  if (paths.length > 0) {
    const perCall = (await limits.of(session)).maxNodesPerTranslateBrowsePathsToNodeIds || 1000;
    for (let start = 0; start < paths.length; start += perCall) {
      const results = await withTimeout(session.translateBrowsePath(paths.slice(start, start + perCall)), step, 'resolving browse paths');
      results.forEach((r, k) => {
        const p = pathItems[start + k]!;
        const target = r.statusCode.isGood() ? r.targets?.[0]?.targetId : undefined;
        if (!target) {
          p.failure = `browsePath ${p.config.browsePath} not found on the server (${r.statusCode.name})`;
          return;
        }
        p.nodeId = new NodeId(target.identifierType, target.value, target.namespace);
        p.nodeIdText = p.nodeId.toString();
        p.meta = Object.freeze({ nodeId: p.nodeIdText, browsePath: p.config.browsePath });
      });
    }
  }
  return plan;
}

/** Items whose node may differ on a restarted server: browse paths and namespace URIs. */
export function canMove(items: readonly PlannedItem[]): boolean {
  return items.some((p) => p.config.browsePath !== undefined || p.config.nodeId?.startsWith('nsu='));
}

/** Items that now resolve to another node than before. */
export function movedItems(before: readonly PlannedItem[], now: readonly PlannedItem[]): PlannedItem[] {
  return now.filter((f, k) => (f.nodeId?.toString() ?? null) !== (before[k]!.nodeId?.toString() ?? null));
}

function relativePath(steps: BrowsePathStep[]): RelativePath {
  return new RelativePath({
    elements: steps.map((step) => {
      const r = step.reference;
      const referenceTypeId =
        r.kind === 'hierarchical' ? resolveNodeId('HierarchicalReferences') : r.kind === 'aggregates' ? resolveNodeId('Aggregates') : resolveNodeId(r.name);
      return new RelativePathElement({
        referenceTypeId,
        isInverse: r.kind === 'named' ? r.inverse : false,
        includeSubtypes: r.kind === 'named' ? r.includeSubtypes : true,
        targetName: new QualifiedName({ namespaceIndex: step.target.namespaceIndex, name: step.target.name }),
      });
    }),
  });
}
