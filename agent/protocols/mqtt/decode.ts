import { DEFAULT_MAX_DEPTH, parseJsonText } from '../../model/json-text';
import type { SignalValue } from '../../model/signal';

/**
 * Turning an MQTT payload (bytes) into a signal value. Pure, no I/O.
 *
 *  - `json`: the payload must be one JSON value (object, array, number, string,
 *    true/false/null), UTF-8 encoded. Anything else is invalid input.
 *  - `text`: the payload is UTF-8 text and the value is that string as sent.
 *
 * A payload over `maxPayloadBytes`, or JSON nested deeper than `maxDepth`, is
 * invalid input too (kept whole, with the reason): the rules never see it.
 */
export type PayloadFormat = 'json' | 'text';

export interface PayloadLimits {
  maxPayloadBytes: number;
  maxDepth: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxPayloadBytes: 1_048_576, maxDepth: DEFAULT_MAX_DEPTH };

export type DecodedPayload = { ok: true; value: SignalValue } | { ok: false; reason: string; raw: string; encoding: 'utf8' | 'base64' };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The payload as UTF-8 text, or undefined when its bytes are not valid UTF-8. */
export function utf8Text(payload: Uint8Array): string | undefined {
  try {
    return utf8.decode(payload);
  } catch {
    return undefined;
  }
}

/** The raw payload as it is kept with invalid input: text where it is text, otherwise base64. */
export function rawPayload(payload: Uint8Array): { raw: string; encoding: 'utf8' | 'base64' } {
  const text = utf8Text(payload);
  if (text !== undefined) return { raw: text, encoding: 'utf8' };
  return { raw: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'), encoding: 'base64' };
}

export function decodePayload(payload: Uint8Array, format: PayloadFormat, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): DecodedPayload {
  if (payload.length > limits.maxPayloadBytes) {
    return {
      ok: false,
      reason: `payload of ${payload.length} bytes is over this source's maxPayloadBytes (${limits.maxPayloadBytes})`,
      ...rawPayload(payload),
    };
  }
  const text = utf8Text(payload);
  if (text === undefined) {
    return { ok: false, reason: 'payload is not valid UTF-8 text', ...rawPayload(payload) };
  }
  if (format === 'text') return { ok: true, value: text };
  const parsed = parseJsonText(text, limits.maxDepth);
  if (parsed.ok) return { ok: true, value: parsed.value as SignalValue };
  if (parsed.tooDeep) return { ok: false, reason: `payload is JSON ${parsed.reason}, over this source's maxDepth`, raw: text, encoding: 'utf8' };
  // Only a payload that failed to parse is looked at again: a blank one gets its own reason.
  if (text.trim().length === 0) {
    return {
      ok: false,
      reason: payload.length === 0 ? 'empty payload where JSON is expected (an empty message clears a retained topic)' : 'blank payload where JSON is expected',
      raw: text,
      encoding: 'utf8',
    };
  }
  return { ok: false, reason: `payload is not valid JSON: ${parsed.reason}`, raw: text, encoding: 'utf8' };
}
