// Vite build for the Shuxiang pages: one multi-page build, served by the C
// server from player-web/dist (services/http/static.c).
//
// The server sends a strict CSP (script-src 'self'; style-src 'self'; no
// 'unsafe-inline'), so the built HTML must contain no inline <script>, no
// <style> and no style="" attributes. Vite's module-preload polyfill is an
// inline script, hence `modulePreload.polyfill: false`; every browser we
// target (WeChat's X5/XWeb, Chromium kiosk, desktop browsers) supports
// <link rel="modulepreload"> or simply ignores it.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2019',
    modulePreload: { polyfill: false },
    // Small images/fonts may be inlined as data: URLs (allowed by img-src and
    // font-src), never scripts or styles.
    assetsInlineLimit: 4096,
    rollupOptions: {
      input: {
        reader: resolve(root, 'index.html'),
        staff: resolve(root, 'staff/index.html'),
        staffUploads: resolve(root, 'staff/uploads/index.html'),
        search: resolve(root, 'search/index.html'),
      },
    },
  },
});
