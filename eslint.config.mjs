import tseslint from 'typescript-eslint';

const coreFolders = [
  'src/orders/**',
  'src/execution/**',
  'src/usecases/**',
  'src/brokers/**',
  'src/python/**',
  'src/common/**',
  'src/cli/**',
];

/** Folders above a floor, which it must never import (a `group` pattern each, type imports included). */
const above = (...folders) => folders.flatMap((f) => [`**/${f}`, `**/${f}/**`]);

/**
 * Every import points down (CONTRIBUTING.md's map). The core rule's name is `no-restricted-imports` so that
 * it adds to the vscode restriction (`@typescript-eslint/no-restricted-imports`) instead of replacing it.
 */
const floors = [
  {
    files: ['src/common/**', 'src/orders/**'],
    group: above('execution', 'usecases', 'brokers', 'python', 'views', 'cli'),
    message: 'src/common and src/orders are the ground floor: they import nothing above them.',
  },
  {
    files: ['src/python/**'],
    group: above('execution', 'usecases', 'brokers', 'views', 'cli'),
    message: 'The Python runner sits below the engine and the venues.',
  },
  {
    files: ['src/brokers/**'],
    group: above('execution', 'usecases', 'views', 'cli'),
    message: 'src/brokers sits below src/execution: move the shared piece down (src/common, src/orders).',
  },
  {
    files: ['src/execution/**'],
    group: [...above('usecases', 'views', 'cli'), '**/brokers/paper', '**/brokers/paper/**'],
    message:
      'The engine knows venues only through BrokerApi (src/brokers/broker.ts): a use case that composes the paper venue lives in src/usecases; shared pieces move down (src/orders, src/common).',
  },
  {
    files: ['src/usecases/**'],
    group: above('views', 'cli'),
    message: 'Use cases are shared by the CLI and the editor: they import neither.',
  },
  {
    files: ['src/cli/**'],
    group: above('views'),
    message: 'The CLI and the editor views are siblings: share through src/usecases or below.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'media/vendor/**',
      '.sptrader*/**',
      'test/reporter.js',
      'test-results/**',
      '.e2e/**',
      // The webview scripts esbuild writes (git ignores them too).
      'media/result.js',
      'media/compare.js',
      'media/replay.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs', 'bench/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Interface methods return promises whether or not this implementation awaits.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-exports': [
        'error',
        {
          restrictDefaultExports: {
            direct: true,
            named: true,
            defaultFrom: true,
            namedFrom: true,
            namespaceFrom: true,
          },
        },
      ],
    },
  },
  {
    files: coreFolders,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message: 'The core runs in plain Node: only src/views/ and src/extension.ts may import vscode.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  ...floors.map(({ files, group, message }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
  })),
  {
    // The composition root depends on the views, never the other way (type imports included): a view
    // takes the narrow services it uses (src/views/services.ts).
    files: ['src/views/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../container', '../../container', '../core', '../../core'],
              message: 'Views never import the composition root: take what you use from ./services (ViewServices).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/unit/**', 'test/integration/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'Unit tests run without an editor.' }] },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['eslint.config.mjs'],
    rules: { 'no-restricted-exports': 'off' },
  },
);
