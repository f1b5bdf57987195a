import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = `http://127.0.0.1:${process.env.GLIDEPATH_API_PORT ?? 3000}`;

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: api, ws: true },
      '/auth': api,
      '/livez': api,
      '/readyz': api,
    },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
