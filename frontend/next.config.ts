import type { NextConfig } from "next";

// A static export: FastAPI serves `out/` from the same origin as the API
// (see backend/langorch/api/static.py), so every page fetches on the client and
// detail pages take their id from the query string (/runs/view?id=...).
const config: NextConfig = {
  output: "export",
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default config;
