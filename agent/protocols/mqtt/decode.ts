import type { SignalValue } from '../../model/signal';

/**
 * Turning an MQTT payload (bytes) into a signal value. Pure, no I/O.
 *
 *  - `json`: the payload must be one JSON value (object, array, number, string,
 *    true/false/null), UTF-8 encoded. Anything else is invalid input.
 *  - `text`: the payload is UTF-8 text and the value is that string as sent.
 */
export type PayloadFormat = 'json' | 'text';

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

export function decodePayload(payload: Uint8Array, format: PayloadFormat): DecodedPayload {
  const text = utf8Text(payload);
  if (text === undefined) {
    return { ok: false, reason: 'payload is not valid UTF-8 text', ...rawPayload(payload) };
  }
  if (format === 'text') return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) as SignalValue };
  } catch (err) {
    // Only a payload that failed to parse is looked at again: a blank one gets its own reason.
    if (text.trim().length === 0) {
      return {
        ok: false,
        reason:
          payload.length === 0 ? 'empty payload where JSON is expected (an empty message clears a retained topic)' : 'blank payload where JSON is expected',
        raw: text,
        encoding: 'utf8',
      };
    }
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `payload is not valid JSON: ${detail}`, raw: text, encoding: 'utf8' };
  }
}
