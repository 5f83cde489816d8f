// The CLI's package.json, imported by version.ts: the bundler inlines it (into the ESM and the
// CommonJS builds alike), so the version needs no file at run time.
declare module "*/package.json" {
  const pkg: { readonly name: string; readonly version: string };
  export default pkg;
}
