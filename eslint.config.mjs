// Lint and format as the Effect monorepo (v3) does: dprint through @effect/eslint-plugin, with this code's style
// (2 spaces, 120 columns, no semicolons, double quotes, no trailing commas).
import * as effectEslint from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/build/**", "**/node_modules/**", "docs/**"] },
  {
    files: ["**/*.ts", "**/*.mts", "**/*.mjs"],
    languageOptions: { parser: tseslint.parser },
    plugins: { "@effect": effectEslint, "@typescript-eslint": tseslint.plugin },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": "off",
      "no-debugger": "error",
      "no-var": "error",
      "prefer-const": "error"
    }
  }
)
