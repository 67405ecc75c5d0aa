// Lives in .config/ to keep the repository's top level to the project's own folders.
// Type-aware linting: the rules that catch floating promises and `any` leaks matter
// most in a service whose correctness hangs on acknowledgements being awaited.
import path from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".config/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      // Each file is checked with its nearest tsconfig: src/ by the build's, test/ by test/tsconfig.json.
      parserOptions: { projectService: true, tsconfigRootDir: path.resolve(import.meta.dirname, "..") },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
    },
  },
  {
    // One way to make a kafkajs client, for every process of ours: newKafkaClient
    // (src/source/client/kafka-client.ts) fixes the loaded kafkajs first (its request
    // timer printed "TimeoutNegativeWarning"; its codecs lack snappy, lz4, zstd).
    files: ["**/*.ts"],
    ignores: ["src/source/client/kafka-client.ts"],
    rules: {
      "no-restricted-syntax": ["error",
        { selector: "NewExpression[callee.name='Kafka']", message: "Make Kafka clients with newKafkaClient (src/source/client/kafka-client.ts)." },
        { selector: "NewExpression[callee.property.name='Kafka']", message: "Make Kafka clients with newKafkaClient (src/source/client/kafka-client.ts)." },
      ],
    },
  },
  {
    // node:test's describe/test return promises the runner itself awaits.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-floating-promises": ["error", {
        allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }],
      }],
    },
  },
);
