// Lint for src/, test/, bench/ and scripts/ (issue 16 item 6): typescript-eslint's recommended
// rules with type information, plus the size bar of issue 16: no file over 400 lines (blank lines
// and comments count), no function over 60 lines unless the line before it says why:
// `// eslint-disable-next-line max-lines-per-function -- <reason>`.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Drops max-lines-per-function reports on the callback of a `describe`/`suite` call: that callback groups tests, each test is a function of its own and stays under the bar. */
const describeBlocks = {
  meta: { name: 'describe-blocks' },
  processors: {
    tests: {
      preprocess (text, filename) {
        sources.set(filename, text.split('\n'))
        return [text]
      },
      postprocess (messages, filename) {
        const lines = sources.get(filename) ?? []
        sources.delete(filename)
        return messages.flat().filter(m => m.ruleId !== 'max-lines-per-function' || !/^\s*(describe|suite)(\.\w+)?\(/.test(lines[m.line - 1] ?? ''))
      },
      supportsAutofix: true
    }
  }
}
const sources = new Map()

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/pb/', 'contrib/', 'bin/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false, IIFEs: true }],
      // `any` marks the places where JSON, a status document or a Node error is read before its
      // fields are checked; the strict compiler covers the rest, and flagging every field read of
      // those values would bury the findings that matter.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes and callbacks implement a Promise-returning interface without awaiting anything;
      // `async` there keeps a throw a rejection, as the interface promises.
      '@typescript-eslint/require-await': 'off',
      // `_` names a value taken apart on purpose (a rest sibling, a callback parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // node:test runs the promise `test` and `describe` return itself.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }]
      }]
    }
  },
  {
    // Tests and benchmarks clean up processes and folders best effort: one already gone is fine.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-empty': ['error', { allowEmptyCatch: true }] }
  },
  {
    // The test compiles the page's inline script to run it as the browser would.
    files: ['test/unit/http/status-page.test.ts'],
    rules: { '@typescript-eslint/no-implied-eval': 'off' }
  },
  {
    files: ['test/**/*.ts'],
    plugins: { 'describe-blocks': describeBlocks },
    processor: 'describe-blocks/tests'
  }
)
