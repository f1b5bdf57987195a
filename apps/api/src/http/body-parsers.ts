import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import YAML from 'yaml';
import { duplicateJsonKey } from './json-duplicate-keys.ts';

/** The YAML tags of JSON's kinds of value: the only ones a plan may carry. */
const JSON_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

export function installBodyParsers(app: FastifyInstance): void {
  // JSON as Fastify parses it (prototype poisoning refused), except that an empty body is no body:
  // `curl -X POST -H 'content-type: application/json' …/pause` means "pause", not a parse error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = secureJson.parse(body as string, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      return done(Object.assign(new Error(`body: is not valid JSON: ${(error as Error).message}`), { statusCode: 400 }), undefined);
    }
    // JSON.parse keeps the last of two equal keys; a reviewer reading the request may see the first.
    const duplicate = duplicateJsonKey(body as string);
    if (duplicate !== undefined) return done(Object.assign(new Error(`body.${duplicate}: appears twice; send each key once`), { statusCode: 400 }), undefined);
    done(null, value);
  });
  // Plans may be written in YAML; they are validated exactly like JSON once parsed. Only JSON's
  // kinds of value: tags that would build other objects (!!set, !!binary, !!timestamp…), duplicate
  // keys and alias bombs are refused, not guessed at.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => {
    const refuse = (problem: string) => done(Object.assign(new Error(`body: is not valid YAML: ${problem}`), { statusCode: 400 }), undefined);
    try {
      const document = YAML.parseDocument(body as string, { schema: 'core', uniqueKeys: true, merge: false, prettyErrors: false });
      const problem = document.errors[0] ?? document.warnings[0];
      if (problem) return refuse(problem.message);
      let tag: string | undefined;
      YAML.visit(document, {
        Node(_key, node) {
          if (node.tag && !JSON_TAGS.has(node.tag)) {
            tag = node.tag;
            return YAML.visit.BREAK;
          }
        },
      });
      if (tag) return refuse(`the tag ${tag} is not allowed: only strings, numbers, booleans, null, maps and lists`);
      done(null, document.toJS({ maxAliasCount: 50 }));
    } catch (error) {
      refuse((error as Error).message);
    }
  });
}
