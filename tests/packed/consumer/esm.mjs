// The ESM consumer: every entry point loaded with `import`.
import calls from "./calls.cjs";

console.log(JSON.stringify(await calls.callEverySubpath((name) => import(name))));
