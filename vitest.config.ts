import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/**/*.test.ts'],
          exclude: ['test/components/**'],
        },
      },
      {
        // The dashboard's Svelte components, rendered in jsdom.
        extends: true,
        // svelteTesting: browser builds of Svelte, and a cleanup after each test.
        plugins: [svelte(), svelteTesting()],
        test: {
          name: 'components',
          include: ['test/components/**/*.test.ts'],
          environment: 'jsdom',
        },
      },
    ],
  },
});
