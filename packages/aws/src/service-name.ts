/**
 * The service of a logger or of metrics given none: `POWERTOOLS_SERVICE_NAME` when set (the
 * variable Powertools for AWS Lambda reads), else `fallback`.
 * @internal
 */
export function serviceFromEnv(fallback: string): string {
  const value = process.env.POWERTOOLS_SERVICE_NAME?.trim();
  return value === undefined || value === "" ? fallback : value;
}
