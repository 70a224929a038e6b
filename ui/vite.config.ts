import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig(({ mode }) => ({
  // Relative base so the bundle works from the app's own origin (tauri://localhost).
  base: './',
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  // Tests run Svelte's browser build in jsdom.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Keep everything as files: nothing inlined as data: scripts.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    // The dialog plugin calls '@tauri-apps/api/core' itself; inline it so tests can mock that module.
    server: { deps: { inline: ['@tauri-apps/plugin-dialog'] } },
  },
}));
