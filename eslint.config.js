// ESLint flat config: the recommended sets (not the type-checked ones: lint stays fast) and the house rules.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const RPC_THROUGH_HELPER = 'call RPCs through bot/db/rpc.ts (call/attempt): it keeps the SQLSTATE';

export default defineConfig(
  { ignores: ['node_modules/', '.data/', 'coverage/', 'dist/', 'supabase/.temp/', 'test/fixtures/', 'test/local/__screenshots__/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // `_name` marks a binding kept on purpose (a destructured field left out, an unused parameter)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // the text folding strips joiners (\u200d) as single characters, written as escapes on purpose
      'no-misleading-character-class': ['error', { allowEscape: true }],
    },
  },
  {
    files: ['bot/**/*.ts', 'functions/**/*.ts'],
    ignores: ['bot/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='rpc']", message: RPC_THROUGH_HELPER },
        { selector: "CallExpression[callee.type='MemberExpression'][callee.property.value='rpc']", message: RPC_THROUGH_HELPER },
      ],
    },
  },
  {
    files: ['bot/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['grammy', 'grammy/*', '@grammyjs/*', 'twilio', 'twilio/*'], message: 'the core is channel-agnostic: provider SDKs belong in bot/channels' }] },
      ],
    },
  },
  {
    // the logger is injected; only the shell commands and the start-up's last words print
    files: ['bot/**/*.ts', 'functions/**/*.ts'],
    ignores: ['functions/cli/**', 'functions/main.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tests reach into loosely typed payloads (provider bodies, emulator state) on purpose
      '@typescript-eslint/no-explicit-any': 'off',
      // a conversation is driven step by step: `r = await tap(…)` keeps each answer at hand even when only some are checked
      'no-useless-assignment': 'off',
    },
  },
);
