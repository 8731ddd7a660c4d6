/**
 * Sparkplug B topics: `spBv1.0/<group>/<message type>/<edge node>[/<device>]`
 * and the host application's `spBv1.0/STATE/<host id>`. Pure.
 */

export const NAMESPACE = 'spBv1.0';

export const NODE_TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD'] as const;
export const DEVICE_TYPES = ['DBIRTH', 'DDATA', 'DDEATH', 'DCMD'] as const;
export type MessageType = (typeof NODE_TYPES)[number] | (typeof DEVICE_TYPES)[number];

/** Message types the agent reads (it never reads commands, which are for edge nodes). */
export const READ_TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'DBIRTH', 'DDATA', 'DDEATH'] as const;

export interface SparkplugTopic {
  group: string;
  type: MessageType;
  node: string;
  device?: string;
}

/** Read a topic, or say why it is not a Sparkplug B edge-node or device topic. */
export function parseTopic(topic: string): SparkplugTopic | { problem: string } {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE) return { problem: `not a Sparkplug B topic (does not start with ${NAMESPACE}/)` };
  const [, group, type, node, device] = parts;
  if (parts.length < 4 || parts.length > 5 || !group || !type || !node) {
    return { problem: `a Sparkplug B topic is ${NAMESPACE}/<group>/<message type>/<edge node>[/<device>]` };
  }
  if ((NODE_TYPES as readonly string[]).includes(type)) {
    if (parts.length !== 4) return { problem: `${type} is an edge node message: ${NAMESPACE}/<group>/${type}/<edge node>` };
    return { group, type: type as MessageType, node };
  }
  if ((DEVICE_TYPES as readonly string[]).includes(type)) {
    if (parts.length !== 5 || !device) return { problem: `${type} is a device message: ${NAMESPACE}/<group>/${type}/<edge node>/<device>` };
    return { group, type: type as MessageType, node, device };
  }
  return { problem: `unknown Sparkplug B message type '${type}'` };
}

/** The filters that bring every message the agent reads, for one group (`+`: every group). */
export function subscriptionFilters(group: string): string[] {
  return READ_TYPES.map((t) => (t.startsWith('N') ? `${NAMESPACE}/${group}/${t}/+` : `${NAMESPACE}/${group}/${t}/+/+`));
}

/** Where an edge node takes its commands. */
export function commandTopic(group: string, node: string): string {
  return `${NAMESPACE}/${group}/NCMD/${node}`;
}

/** The primary host application's state topic (Sparkplug 3.0). */
export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${hostId}`;
}

/** Why a Sparkplug id (group, edge node, host id) cannot be used, or undefined. */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'cannot be empty';
  if (/[/+#]/.test(id)) return 'may not hold /, + or #';
  return undefined;
}
