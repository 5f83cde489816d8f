// The CommonJS consumer: every entry point loaded with `require`.
"use strict";

const { callEverySubpath } = require("./calls.cjs");

callEverySubpath((name) => require(name)).then((results) => console.log(JSON.stringify(results)));
