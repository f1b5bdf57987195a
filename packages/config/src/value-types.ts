import { redactUrlText } from '@glidepath/core';
import { Refusal } from './config-error.ts';

/**
 * How one variable's text becomes a value. `rule` completes "NAME must be …" in a refusal;
 * `shown` is the default as the README states it. Unset and empty are the same (a compose
 * file's `NAME=` means "not set"), so every type reads `undefined` as its default.
 */
export interface ValueType<T> {
  rule: string;
  shown: string;
  read(raw: string | undefined): T;
}

const unset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';

/** What a refusal shows of a value: quoted on one line, credentials in URLs hidden. */
export const shownValue = (raw: string): string => JSON.stringify(redactUrlText(raw));

const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

/** One rule for every switch, in both apps: `0` is false everywhere, `maybe` is refused. */
export function bool(fallback: boolean): ValueType<boolean> {
  return {
    rule: 'true, false, 1, 0, yes or no',
    shown: String(fallback),
    read(raw) {
      if (unset(raw)) return fallback;
      const word = raw.toLowerCase();
      if (TRUE.includes(word)) return true;
      if (FALSE.includes(word)) return false;
      throw new Refusal(shownValue(raw));
    },
  };
}

export function int(min: number, max: number, fallback: number, rule = `an integer ${min}-${max}`): ValueType<number> {
  return {
    rule,
    shown: String(fallback),
    read(raw) {
      if (unset(raw)) return fallback;
      // Number() would take " 5", "0x10" and "1e3"; a setting is plain digits.
      const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) throw new Refusal(shownValue(raw));
      return value;
    },
  };
}

/** 0 lets the system pick a free port (the tests start many processes side by side). */
export const port = (fallback: number): ValueType<number> => int(0, 65535, fallback, 'a port number 0-65535');

export function oneOf<const T extends string>(allowed: readonly T[], fallback: T): ValueType<T> {
  return {
    rule: `one of ${allowed.join(', ')}`,
    shown: fallback,
    read(raw) {
      if (unset(raw)) return fallback;
      if (!(allowed as readonly string[]).includes(raw)) throw new Refusal(shownValue(raw));
      return raw as T;
    },
  };
}

export function url(protocols: readonly string[], fallback?: undefined, shown?: string): ValueType<string | undefined>;
export function url(protocols: readonly string[], fallback: string): ValueType<string>;
export function url(protocols: readonly string[], fallback?: string, shown?: string): ValueType<string | undefined> {
  return {
    rule: `a URL starting with ${protocols.join(' or ')}`,
    shown: fallback ?? shown ?? 'none',
    read(raw) {
      if (unset(raw)) return fallback;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new Refusal(shownValue(raw));
      }
      if (!protocols.includes(parsed.protocol)) throw new Refusal(shownValue(raw));
      return raw;
    },
  };
}

/** Free text (a host, a path, a claim name); `pattern` bounds it where other systems would choke. */
export function text(fallback: string, rule?: string, pattern?: RegExp): ValueType<string>;
export function text(fallback: undefined, rule?: string, pattern?: RegExp, shown?: string): ValueType<string | undefined>;
export function text(fallback: string | undefined, rule = 'any text', pattern?: RegExp, shown?: string): ValueType<string | undefined> {
  return {
    rule,
    shown: shown ?? fallback ?? 'none',
    read(raw) {
      if (unset(raw)) return fallback;
      if (pattern && !pattern.test(raw)) throw new Refusal(shownValue(raw));
      return raw;
    },
  };
}

/** A credential: checked for shape, never echoed (a refusal says only how long it was). */
export function secret(rule: string, pattern?: RegExp, shown = 'none'): ValueType<string | undefined> {
  return {
    rule,
    shown,
    read(raw) {
      if (unset(raw)) return undefined;
      if (pattern && !pattern.test(raw)) throw new Refusal(`a value of ${raw.length} characters`);
      return raw;
    },
  };
}

/**
 * A comma-separated list; each entry is trimmed, empty entries are skipped, and `check`
 * returns the entry as kept or throws a Refusal naming the entry.
 */
export function list(rule: string, check: (entry: string) => string, shown = 'empty'): ValueType<string[]> {
  return {
    rule,
    shown,
    read(raw) {
      if (unset(raw)) return [];
      return raw
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
        .map(check);
    },
  };
}
