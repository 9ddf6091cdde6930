import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the C# server under /app/; the API lives on the same origin under /rest/v3.
export default defineConfig({
  base: '/app/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The app is one ~1.4 MB (≈400 kB gzipped) bundle: React, Redux, recharts, leaflet, date-fns, the Shlink UI.
    chunkSizeWarningLimit: 2000,
    // Hashed names for everything under assets/ (Vite's default pattern, spelled out).
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
});
