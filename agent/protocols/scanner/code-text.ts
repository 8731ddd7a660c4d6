/**
 * Checks shared by every scanner: strip the prefix/suffix a scanner is set to
 * add, and accept only text a barcode can carry. Pure.
 */

/** Remove `prefix` at the start and `suffix` at the end, each only when present. */
export function stripAffixes(code: string, prefix: string, suffix: string): string {
  let out = code;
  if (prefix && out.startsWith(prefix)) out = out.slice(prefix.length);
  if (suffix && out.endsWith(suffix)) out = out.slice(0, out.length - suffix.length);
  return out;
}

/**
 * Control characters a barcode legitimately carries: GS (0x1D, FNC1 in GS1
 * codes), RS (0x1E) and EOT (0x04) of ISO/IEC 15434 envelopes (`[)>`).
 */
const ALLOWED_CONTROLS = new Set([0x04, 0x1d, 0x1e]);

/** Undefined when the text is a plausible scan; otherwise why not. */
export function unreadableReason(code: string): string | undefined {
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if ((c < 0x20 && !ALLOWED_CONTROLS.has(c)) || (c >= 0x7f && c <= 0x9f)) {
      return `control character 0x${c.toString(16).padStart(2, '0')} at position ${i}`;
    }
    if (c === 0xfffd) return `undecodable byte at position ${i}`;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode bytes as UTF-8 text; undefined when they are not valid UTF-8 (binary data, wrong baud rate). */
export function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
