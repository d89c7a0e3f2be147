// Lint for everything we write in TypeScript: recommended JavaScript and typescript-eslint rules, Lit's
// template rules and lit-a11y's accessibility rules for the elements. Formatting is Prettier's job
// (.prettierrc.json); `npm run lint` runs both, and `npm test` runs `npm run lint` first.
import js from '@eslint/js';
import lit from 'eslint-plugin-lit';
import litA11y from 'eslint-plugin-lit-a11y';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'build/', '.dist-next/', 'node_modules/', 'test/consumer/', '**/*.generated.ts', 'assembly/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_` marks a parameter a signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // chai's property assertions (`expect(x).to.be.NaN`) are expressions by design.
    files: ['test/**/*.ts', 'src/**/*.test.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['src/components/**/*.ts'],
    ...lit.configs['flat/recommended'],
  },
  {
    files: ['src/components/**/*.ts'],
    ...litA11y.configs.recommended,
  },
  {
    // Plain JavaScript runs in Node, and scripts hand functions to the browser (page.evaluate).
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
