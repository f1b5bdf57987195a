import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const apps = ['@glidepath/api', '@glidepath/worker', '@glidepath/web', '@glidepath/cli'];
const noImport = (names, message) => ({ group: names.flatMap((n) => [n, `${n}/*`]), message });
// Relative imports may not climb out of a package into another one either.
const noRelativeEscape = { group: ['../../*', '../../../*', '../../../../*'], message: 'import other packages by name (@glidepath/...), not by path' };

/** The import direction of ARCHITECTURE.md: core <- config <- db, providers <- apps; nothing imports an app. */
const importDirection = [
  {
    files: ['packages/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noImport(['@glidepath/*'], 'core is pure: it imports no other Glidepath package'), noRelativeEscape] }],
    },
  },
  {
    // The configuration schema sits under everything that reads it: db's tools, the api and the worker.
    files: ['packages/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noImport([...apps, '@glidepath/db', '@glidepath/providers'], 'config may import only @glidepath/core'), noRelativeEscape] },
      ],
    },
  },
  {
    files: ['packages/db/**/*.ts', 'packages/providers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noImport([...apps, '@glidepath/db', '@glidepath/providers'], 'db and providers may import only @glidepath/core and @glidepath/config'),
            noRelativeEscape,
          ],
        },
      ],
    },
  },
  {
    files: ['apps/api/**/*.ts', 'apps/worker/**/*.ts', 'apps/cli/**/*.ts', 'bench/**/*.ts', 'demo/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noImport(apps, 'nothing imports an app: move shared code into a package'), noRelativeEscape] }] },
  },
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noImport(
              [...apps, '@glidepath/core', '@glidepath/config', '@glidepath/db', '@glidepath/providers', '@glidepath/dev-oidc'],
              'the dashboard talks to the API only, over HTTP, typed by @glidepath/client',
            ),
            noRelativeEscape,
          ],
        },
      ],
    },
  },
  {
    files: ['packages/client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noImport(['@glidepath/*'], 'the client is generated from the OpenAPI document alone'), noRelativeEscape] },
      ],
    },
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'packages/db/src/generated/**',
      'packages/client/src/schema.gen.ts',
      '**/test-results/**',
      '**/playwright-report/**',
      '.tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  { files: ['apps/web/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
  ...importDirection,
);
