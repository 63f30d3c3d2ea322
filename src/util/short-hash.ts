/**
 * A 64-bit name for a text, as 16 hex digits: two FNV-1a passes over its
 * UTF-16 code units with different offsets, the second also mixing in the
 * first. For naming things whose full key is kept and compared on use (a
 * run cache entry, a code cache file): two keys with one name only take
 * turns. Not for anything a hostile input could aim at: that is SHA-256's
 * work (node:crypto, which this spares a replayed run from loading).
 */
export function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c ^ (a >>> 16), 0x01000193);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}
