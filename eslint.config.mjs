import tseslint from 'typescript-eslint';

const coreFolders = [
  'src/orders/**',
  'src/execution/**',
  'src/brokers/**',
  'src/python/**',
  'src/common/**',
  'src/cli/**',
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
      'media/result.js',
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
  {
    // Venues sit below the engine: a broker never reaches up into src/execution (a second rule name, so it adds to
    // the vscode restriction above instead of replacing it).
    files: ['src/brokers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/execution', '**/execution/**'],
              message: 'src/brokers sits below src/execution: move the shared piece down (src/common, src/orders).',
            },
          ],
        },
      ],
    },
  },
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
    files: ['test/unit/**'],
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
