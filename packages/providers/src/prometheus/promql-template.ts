/**
 * PromQL query templates, so that metrics named any way work without relabelling.
 *
 * Placeholders (`{{name}}`):
 * - the same on both sides: {{service}}, {{environment}}, {{window}} (e.g. "95s"), and
 *   {{backend}} (the environment's HAProxy backend);
 * - the canary's identity: {{version}}, {{digest}} (sha256:…), {{digestShort}} (its first 12
 *   hex digits) and {{metadata.<key>}} (a string or number of the artifact's metadata). They
 *   only go in a label matcher's value, written for the canary (`app_version="{{version}}"`,
 *   `image=~".*@{{digest}}"`); the baseline query is the same with those matchers negated
 *   (= → !=, =~ → !~): the baseline is the rest of the environment's traffic;
 * - per side: {{track}} (`canary` / `stable` by default, see `tracks`) and {{server}} (the
 *   HAProxy router's canaryServer / stableServer): the baseline query takes the other value;
 * - {{version}} alone as a whole matcher (`{job="api",{{version}}}`) is `<versionLabel>="…"`
 *   for the canary and `<versionLabel>!="…"` for the baseline (the original form).
 *
 * Values are escaped for the quotes they stand in, and for RE2 too inside =~ / !~ values, so a
 * version like `1.2.0+build.7` matches itself and nothing else. Templates are parsed when a
 * config is registered: an unknown placeholder, an unbalanced bracket or quote, or a
 * placeholder where it cannot be escaped is refused with where it is.
 */

const SAME_ON_BOTH_SIDES = ['service', 'environment', 'window', 'backend'] as const;
const CANARY_IDENTITY = ['version', 'digest', 'digestShort'] as const;
const PER_SIDE = ['track', 'server'] as const;
const METADATA = /^metadata\.([A-Za-z0-9_.-]{1,64})$/;
const KNOWN = [...SAME_ON_BOTH_SIDES, ...CANARY_IDENTITY, 'metadata.<key>', ...PER_SIDE].map((n) => `{{${n}}}`).join(', ');

const isIdentity = (name: string) => (CANARY_IDENTITY as readonly string[]).includes(name) || METADATA.test(name);
const isPerSide = (name: string) => (PER_SIDE as readonly string[]).includes(name);
const isKnown = (name: string) => isIdentity(name) || isPerSide(name) || (SAME_ON_BOTH_SIDES as readonly string[]).includes(name);

type Quote = '"' | "'";
type Segment =
  | { kind: 'text'; text: string }
  /** A placeholder's value: inside a quoted string (escaped for it), or bare ({{window}} only). */
  | { kind: 'value'; name: string; quote: Quote | null; regex: boolean }
  /** The operator of a matcher on the canary's identity: as written for the canary, negated for the baseline. */
  | { kind: 'identityOperator'; op: '=' | '=~' }
  /** Bare {{version}} in a selector: `<versionLabel>="v"` / `<versionLabel>!="v"`. */
  | { kind: 'versionMatcher' };

export interface QueryTemplate {
  readonly segments: readonly Segment[];
  /** Every placeholder used ({{version}} as a whole matcher counts as version). */
  readonly placeholders: ReadonlySet<string>;
}

export type TemplateCheck<T> = { ok: true; template: T } | { ok: false; problem: string };

class TemplateError extends Error {}

class Parser {
  private pos = 0;
  private readonly segments: Segment[] = [];
  private readonly names = new Set<string>();
  private text = '';

  constructor(private readonly src: string) {}

  private fail(message: string, at = this.pos): never {
    throw new TemplateError(`${message} (at character ${at + 1})`);
  }

  private flush() {
    if (this.text) this.segments.push({ kind: 'text', text: this.text });
    this.text = '';
  }

  private push(segment: Segment) {
    this.flush();
    this.segments.push(segment);
  }

  /** `{{name}}` at the cursor, checked; null when the cursor is not on one. */
  private placeholderAt(): { name: string; end: number } | null {
    const match = /^\{\{([^{}]*)\}\}/.exec(this.src.slice(this.pos));
    if (!match) return null;
    const name = match[1]!;
    if (!isKnown(name)) this.fail(`unknown placeholder {{${name}}}; known: ${KNOWN}`);
    this.names.add(name);
    return { name, end: this.pos + match[0].length };
  }

  private skipSpaces() {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.text += this.src[this.pos++];
  }

  template(): QueryTemplate {
    const open: Array<{ char: string; at: number }> = [];
    const closing: Record<string, string> = { ')': '(', ']': '[' };
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      const placeholder = this.placeholderAt();
      if (placeholder) {
        if (placeholder.name === 'window') {
          this.push({ kind: 'value', name: 'window', quote: null, regex: false });
          this.pos = placeholder.end;
          continue;
        }
        if (placeholder.name === 'version')
          this.fail('{{version}} outside a selector: write it as a whole matcher inside {…} or as a label value, e.g. app_version="{{version}}"');
        this.fail(`{{${placeholder.name}}} outside a quoted string: a value is only escaped as a label value, e.g. label="{{${placeholder.name}}}"`);
      }
      if (c === '"' || c === "'" || c === '`') {
        const names = this.quoted({ regex: false });
        const identity = [...names].find(isIdentity);
        if (identity)
          this.fail(`{{${identity}}} names the canary, so it only goes in a label matcher's value (label="{{${identity}}}"), which the baseline query negates`);
        continue;
      }
      if (c === '#') {
        // A comment runs to the end of the line.
        const end = this.src.indexOf('\n', this.pos);
        const stop = end === -1 ? this.src.length : end;
        this.text += this.src.slice(this.pos, stop);
        this.pos = stop;
        continue;
      }
      if (c === '{') {
        this.selector();
        continue;
      }
      if (c === '(' || c === '[') open.push({ char: c, at: this.pos });
      if (c === ')' || c === ']') {
        const top = open.pop();
        if (!top) this.fail(`unbalanced "${c}": nothing to close`);
        if (top.char !== closing[c]) this.fail(`unbalanced "${c}": "${top.char}" at character ${top.at + 1} is still open`);
      }
      if (c === '}') this.fail('unbalanced "}": no selector to close');
      this.text += c;
      this.pos++;
    }
    const unclosed = open.pop();
    if (unclosed) this.fail(`unbalanced "${unclosed.char}": never closed`, unclosed.at);
    this.flush();
    return { segments: this.segments, placeholders: this.names };
  }

  /** A quoted string at the cursor; returns the placeholders in it. */
  private quoted(context: { regex: boolean }): Set<string> {
    const quote = this.src[this.pos]!;
    const start = this.pos;
    const inside = new Set<string>();
    if (quote === '`') {
      const end = this.src.indexOf('`', start + 1);
      if (end === -1) this.fail('unterminated `string`', start);
      const body = this.src.slice(start + 1, end);
      if (/\{\{[^{}]*\}\}/.test(body)) this.fail('a `raw string` cannot escape a placeholder\'s value: use "double quotes"', start);
      this.text += this.src.slice(start, end + 1);
      this.pos = end + 1;
      return inside;
    }
    this.text += quote;
    this.pos++;
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`unterminated string: the ${quote} is never closed`, start);
      const c = this.src[this.pos]!;
      if (c === '\\') {
        if (this.pos + 1 >= this.src.length) this.fail(`unterminated string: the ${quote} is never closed`, start);
        this.text += this.src.slice(this.pos, this.pos + 2);
        this.pos += 2;
        continue;
      }
      if (c === quote) {
        this.text += c;
        this.pos++;
        return inside;
      }
      const placeholder = this.placeholderAt();
      if (placeholder) {
        this.push({ kind: 'value', name: placeholder.name, quote: quote as Quote, regex: context.regex });
        inside.add(placeholder.name);
        this.pos = placeholder.end;
        continue;
      }
      this.text += c;
      this.pos++;
    }
  }

  /** `{label op "value", …}` at the cursor, or bare {{version}} items. */
  selector(): void {
    const start = this.pos;
    this.text += '{';
    this.pos++;
    let expectItem = true;
    let items = 0;
    for (;;) {
      this.skipSpaces();
      if (this.pos >= this.src.length) this.fail('unbalanced "{": never closed', start);
      const c = this.src[this.pos]!;
      if (c === '}') {
        this.text += c;
        this.pos++;
        return;
      }
      if (c === ',') {
        if (expectItem) this.fail(items === 0 ? 'a selector cannot start with ","' : 'two "," in a row');
        this.text += c;
        this.pos++;
        expectItem = true;
        continue;
      }
      if (!expectItem) this.fail(`expected "," or "}" in the selector, found ${JSON.stringify(c)}`);
      const placeholder = this.placeholderAt();
      if (placeholder) {
        if (placeholder.name !== 'version') this.fail(`{{${placeholder.name}}} cannot be a whole matcher: write label="{{${placeholder.name}}}"`);
        this.push({ kind: 'versionMatcher' });
        this.pos = placeholder.end;
      } else {
        this.matcher();
      }
      expectItem = false;
      items++;
    }
  }

  private matcher() {
    const label = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos))?.[0];
    if (!label) this.fail(`expected a label name in the selector, found ${JSON.stringify(this.src[this.pos])}`);
    this.text += label;
    this.pos += label.length;
    this.skipSpaces();
    const op = /^(!=|=~|!~|=)/.exec(this.src.slice(this.pos))?.[0] as '=' | '!=' | '=~' | '!~' | undefined;
    if (!op) this.fail(`expected =, !=, =~ or !~ after ${label}`);
    const opAt = this.pos;
    this.pos += op.length;
    const opIndex = this.segments.length + (this.text ? 1 : 0);
    this.push({ kind: 'text', text: op });
    this.skipSpaces();
    const q = this.src[this.pos];
    if (q !== '"' && q !== "'" && q !== '`') this.fail(`expected a quoted value after ${label}${op}`);
    const names = this.quoted({ regex: op === '=~' || op === '!~' });
    const identity = [...names].filter(isIdentity);
    const perSide = [...names].filter(isPerSide);
    if (identity.length === 0) return;
    if (perSide.length > 0)
      this.fail(
        `${label}: one value cannot hold the canary's identity ({{${identity[0]}}}) and a per-side value ({{${perSide[0]}}}): the baseline query would have to negate it and swap it`,
        opAt,
      );
    if (op === '!=' || op === '!~')
      this.fail(
        `${label}${op}"…{{${identity[0]}}}…": a matcher on the canary's identity is written for the canary (= or =~); the baseline query negates it`,
        opAt,
      );
    this.segments[opIndex] = { kind: 'identityOperator', op };
  }

  /** For preset matchers: the whole source must be one selector's items. */
  matchersOnly(): QueryTemplate {
    this.selector();
    if (this.pos !== this.src.length) this.fail('only label matchers, e.g. job="haproxy", instance=~"lb-.*"');
    this.flush();
    return { segments: this.segments, placeholders: this.names };
  }
}

function run<T>(work: () => T): TemplateCheck<T> {
  try {
    return { ok: true, template: work() };
  } catch (error) {
    if (error instanceof TemplateError) return { ok: false, problem: error.message };
    throw error;
  }
}

export function parseQueryTemplate(source: string): TemplateCheck<QueryTemplate> {
  return run(() => new Parser(source).template());
}

/** Label matchers to add to a selector (`job="haproxy-prod", instance=~"lb-.*"`), checked the same way. */
export function parseMatchers(source: string): TemplateCheck<string> {
  const parsed = run(() => new Parser(`{${source}}`).matchersOnly());
  if (!parsed.ok)
    return { ok: false, problem: parsed.problem.replace(/\(at character (\d+)\)$/, (_m, n: string) => `(at character ${Math.max(1, Number(n) - 1)})`) };
  const identity = [...parsed.template.placeholders].find((n) => isIdentity(n) || isPerSide(n));
  if (identity)
    return {
      ok: false,
      problem: `{{${identity}}} differs between canary and baseline: only {{service}}, {{environment}} and {{backend}} go in these matchers`,
    };
  return { ok: true, template: source };
}

/** What one side's query is filled with. */
export interface TemplateValues {
  service: string;
  environment: string;
  window: string;
  canary: { version: string; digest?: string; metadata?: Record<string, unknown> | null };
  versionLabel: string;
  /** {{track}} of this side. */
  track: string;
  /** From the environment's HAProxy router, when it has one: {{backend}}, and {{server}} of this side. */
  haproxy?: { backend: string; server: string };
}

export type Rendered = { ok: true; query: string } | { ok: false; reason: string };

/** RE2 metacharacters, so that a value inside =~ matches itself only. */
const escapeRegex = (value: string) => value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

/** A value inside a PromQL string in `quote`s: backslash, the quote and control characters escaped as Go reads them. */
export function escapePromString(value: string, quote: Quote): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

function valueOf(name: string, v: TemplateValues): Rendered {
  const found = (query: string): Rendered => ({ ok: true, query });
  switch (name) {
    case 'service':
      return found(v.service);
    case 'environment':
      return found(v.environment);
    case 'window':
      return found(v.window);
    case 'version':
      return found(v.canary.version);
    case 'track':
      return found(v.track);
    case 'backend':
    case 'server':
      return v.haproxy
        ? found(name === 'backend' ? v.haproxy.backend : v.haproxy.server)
        : { ok: false, reason: `{{${name}}} needs the environment's traffic router to be HAProxy` };
    case 'digest':
      return v.canary.digest ? found(v.canary.digest) : { ok: false, reason: 'the canary artifact has no digest for {{digest}}' };
    case 'digestShort': {
      const hex = /^[A-Za-z0-9_+.-]+:([0-9a-f]{12})/.exec(v.canary.digest ?? '')?.[1];
      return hex ? found(hex) : { ok: false, reason: `the canary's digest (${v.canary.digest ?? 'none'}) has no short form for {{digestShort}}` };
    }
  }
  const key = METADATA.exec(name)![1]!;
  const value = v.canary.metadata?.[key];
  if (typeof value === 'string' && value !== '') return found(value);
  if (typeof value === 'number' && Number.isFinite(value)) return found(String(value));
  return { ok: false, reason: `the canary artifact's metadata has no "${key}" (a string or a number) for {{${name}}}` };
}

/** The query for one side, or why it cannot be written (a value this release does not have). */
export function renderQuery(template: QueryTemplate, side: 'canary' | 'baseline', values: TemplateValues): Rendered {
  let query = '';
  for (const segment of template.segments) {
    if (segment.kind === 'text') query += segment.text;
    else if (segment.kind === 'identityOperator') query += side === 'canary' ? segment.op : segment.op === '=' ? '!=' : '!~';
    else if (segment.kind === 'versionMatcher')
      query += `${values.versionLabel}${side === 'canary' ? '=' : '!='}"${escapePromString(values.canary.version, '"')}"`;
    else {
      const value = valueOf(segment.name, values);
      if (!value.ok) return value;
      const raw = segment.regex ? escapeRegex(value.query) : value.query;
      query += segment.quote ? escapePromString(raw, segment.quote) : raw;
    }
  }
  return { ok: true, query };
}
