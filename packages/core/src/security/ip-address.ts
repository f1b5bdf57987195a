/**
 * IP addresses as 16 bytes, IPv4 in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so that one
 * range check covers both spellings: a rule for 169.254.0.0/16 also catches
 * ::ffff:169.254.169.254, which reaches the same place. Written here rather than taken from
 * node:net because core imports nothing.
 */
export type IpBytes = Uint8Array;

export interface IpRange {
  base: IpBytes;
  /** Bits that must match, counted over all 16 bytes (an IPv4 /16 is 96 + 16). */
  bits: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function parseIpv6(text: string): number[] | null {
  // A zone (fe80::1%eth0) picks an interface; the address is the same one.
  const address = text.replace(/%[\w.-]+$/, '');
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one group of zeros; without it there must be exactly eight.
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  // The dotted IPv4 tail is only allowed as the last 32 bits.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** 16 bytes for an IPv4 or IPv6 address as written (no brackets, no port); null when it is not one. */
export function parseIp(text: string): IpBytes | null {
  const v4 = parseIpv4(text);
  if (v4) return Uint8Array.from([...MAPPED_PREFIX, ...v4]);
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 ? Uint8Array.from(v6) : null;
}

export function isIpv4(bytes: IpBytes): boolean {
  return MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/** `10.0.0.0/8`, `fd00::/8`, or one address (a range of one). */
export function parseRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  const base = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!base) return null;
  const v4 = isIpv4(base) && !text.slice(0, slash === -1 ? undefined : slash).includes(':');
  const max = v4 ? 32 : 128;
  if (slash === -1) return { base, bits: 128 };
  const prefixText = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  return { base, bits: v4 ? 96 + prefix : prefix };
}

export function inRange(ip: IpBytes, range: IpRange): boolean {
  for (let bit = 0; bit < range.bits; bit += 8) {
    const take = Math.min(8, range.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((ip[bit / 8]! & mask) !== (range.base[bit / 8]! & mask)) return false;
  }
  return true;
}

/** How a person writes it: dotted for IPv4 (also when it came IPv4-mapped), groups for IPv6. */
export function formatIp(bytes: IpBytes): string {
  if (isIpv4(bytes)) return [...bytes.slice(12)].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // The longest run of two or more zero groups becomes "::".
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}
