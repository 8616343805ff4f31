import nextVitals from "eslint-config-next/core-web-vitals";
import tseslint from "typescript-eslint";

// The app and the browser suite (e2e/, playwright.config.ts) are linted with types alike.
const TYPED = ["src/**/*.{ts,tsx}", "e2e/**/*.ts", "playwright.config.ts"];

const config = [
  { ignores: [".next/**", "out/**", "node_modules/**", "test-artifacts/**", "next-env.d.ts", "src/lib/api/schema.d.ts"] },
  ...nextVitals,
  ...tseslint.configs.strictTypeChecked.map((c) => ({ ...c, files: TYPED })),
  {
    files: TYPED,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "no-console": ["error", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "always"],
    },
  },
];

export default config;
