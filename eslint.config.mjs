// ESLint (flat config): typescript-eslint's recommended rules over the TypeScript sources, tests and scripts, and
// eslint's recommended rules over the JavaScript executable doubles. Formatting is Prettier's (.prettierrc.json);
// `npm test` runs both with zero warnings allowed (scripts/lint.sh).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
  require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', Buffer: 'readonly', console: 'readonly',
  __dirname: 'readonly', __filename: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly',
  clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly',
  AbortController: 'readonly', fetch: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', globalThis: 'readonly',
  URLSearchParams: 'readonly', TextDecoderStream: 'readonly', performance: 'readonly',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', 'tasks/*/dist/**', 'actions/*/dist/**', 'bench/out/**', '**/*.min.js'] },
  { files: ['**/*.ts'], extends: [js.configs.recommended, ...tseslint.configs.recommended] },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
