/** Base64 for the render host's binary payloads (Chromium's native Uint8Array methods when present). */
type WithBase64 = Uint8Array & { toBase64?: () => string };
type Uint8ArrayCtor = typeof Uint8Array & { fromBase64?: (s: string) => Uint8Array };

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as WithBase64).toBase64;
  if (native) return native.call(bytes);
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const native = (Uint8Array as Uint8ArrayCtor).fromBase64;
  if (native) return native(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
