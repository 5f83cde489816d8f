import { ConfigurationError } from "@musicpipe/core";

/**
 * Throws a {@link ConfigurationError} unless `value` is an object with every one of `methods`:
 * how the Powertools adapters check what they were given, since they import nothing of
 * Powertools to check it against.
 * @internal
 */
export function expectMethods(where: string, what: string, value: unknown, methods: readonly string[]): void {
  const ok =
    typeof value === "object" &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function");
  if (!ok) {
    throw new ConfigurationError(
      `${where}: expected ${what} (with ${methods.join(", ")}), got ${value === null ? "null" : typeof value}`,
    );
  }
}
