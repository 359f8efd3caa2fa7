import { defineConfig } from "vite";

// The service embeds ../wwwroot (CitySight.CommandCentre.csproj) and serves it at "/": no CDN, every asset local.
export default defineConfig({
  base: "/",
  build: {
    outDir: "../wwwroot",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    target: "es2022",
  },
  server: {
    // `npm run dev` against a service running on its default HTTP port.
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});
