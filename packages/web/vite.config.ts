import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Everything is bundled (no CDN, no web fonts): the console works on machines without internet.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7420' } },
});
