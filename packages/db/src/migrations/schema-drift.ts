import { readFile } from 'node:fs/promises';
import { getSchema, type Attribute, type Field, type Model } from '@mrleebo/prisma-ast';
import pg from 'pg';

/**
 * Compares schema.prisma with a migrated database: every model a table, every scalar field
 * a column of the matching type and nullability, and no table the schema does not know.
 * Returns the differences; empty means the SQL migrations and the schema agree.
 */
export async function findSchemaDrift(schemaPath: string, databaseUrl: string): Promise<string[]> {
  const schema = getSchema(await readFile(schemaPath, 'utf8'));
  const enums = new Set(schema.list.filter((b) => b.type === 'enum').map((b) => (b as { name: string }).name));
  const models = schema.list.filter((b): b is Model => b.type === 'model');
  const modelNames = new Set(models.map((m) => m.name));
  const columns = await readColumns(databaseUrl);
  const problems: string[] = [];

  const expectedTables = new Set<string>();
  for (const model of models) {
    const table = mapName(model.properties) ?? model.name;
    expectedTables.add(table);
    const actual = columns.get(table);
    if (!actual) {
      problems.push(`model ${model.name}: table "${table}" does not exist`);
      continue;
    }
    const fields = model.properties.filter((p): p is Field => p.type === 'field' && !modelNames.has(String(p.fieldType)));
    for (const field of fields) {
      const column = mapName(field.attributes ?? []) ?? field.name;
      const found = actual.get(column);
      const where = `${model.name}.${field.name} (column "${table}"."${column}")`;
      if (!found) {
        problems.push(`${where} does not exist`);
        continue;
      }
      const isList = field.array === true;
      const expectedType = expectedSqlType(String(field.fieldType), field.attributes ?? [], enums, isList);
      if (found.type !== expectedType) problems.push(`${where}: type is ${found.type}, schema says ${expectedType}`);
      if (!isList) {
        const optional = field.optional === true;
        if (found.nullable !== optional)
          problems.push(`${where}: ${found.nullable ? 'nullable' : 'NOT NULL'} in the database, ${optional ? 'optional' : 'required'} in the schema`);
      }
    }
  }
  for (const table of columns.keys()) {
    if (!expectedTables.has(table) && table !== '_prisma_migrations') problems.push(`table "${table}" exists but no model maps to it`);
  }
  return problems;
}

function mapName(attributes: Array<Attribute | { type: string }>): string | undefined {
  const map = attributes.find((a): a is Attribute => (a as Attribute).name === 'map');
  const arg = map?.args?.[0]?.value;
  return typeof arg === 'string' ? arg.replace(/^"|"$/g, '') : undefined;
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const NATIVE_TYPES: Record<string, (arg?: string) => string> = {
  Uuid: () => 'uuid',
  Text: () => 'text',
  Char: (n) => `character(${n})`,
  VarChar: (n) => `character varying(${n})`,
  Timestamptz: (n) => `timestamp(${n ?? 6}) with time zone`,
  Timestamp: (n) => `timestamp(${n ?? 6}) without time zone`,
  Integer: () => 'integer',
  SmallInt: () => 'smallint',
  DoublePrecision: () => 'double precision',
};

function expectedSqlType(fieldType: string, attributes: Attribute[], enums: Set<string>, isList: boolean): string {
  const native = attributes.find((a) => a.group === 'db');
  let type: string;
  if (native) {
    const make = NATIVE_TYPES[native.name];
    type = make ? make(native.args?.[0]?.value as string | undefined) : `unknown native type @db.${native.name}`;
  } else if (enums.has(fieldType)) {
    type = `enum ${fieldType}`;
  } else {
    type = SCALAR_TYPES[fieldType] ?? `unknown type ${fieldType}`;
  }
  return isList ? `${type}[]` : type;
}

async function readColumns(databaseUrl: string): Promise<Map<string, Map<string, { type: string; nullable: boolean }>>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string; column_name: string; type: string; nullable: boolean; is_enum: boolean }>(`
      SELECT c.relname AS table_name, a.attname AS column_name,
             format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
             t.typtype = 'e' OR (t.typcategory = 'A' AND et.typtype = 'e') AS is_enum
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type et ON et.oid = t.typelem
      WHERE a.attnum > 0 AND NOT a.attisdropped`);
    const tables = new Map<string, Map<string, { type: string; nullable: boolean }>>();
    for (const row of rows) {
      const type = row.is_enum ? `enum ${row.type.replace(/"/g, '')}` : row.type;
      if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
      tables.get(row.table_name)!.set(row.column_name, { type, nullable: row.nullable });
    }
    return tables;
  } finally {
    await client.end();
  }
}
