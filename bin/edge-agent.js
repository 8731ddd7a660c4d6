#!/usr/bin/env node
// The `edge-agent` command from a clone or an npm install (`npx edge-agent ...`).
// It is committed with its run bit; the build writes dist/ afresh, without one.
require('../dist/agent/cli/main.js').runCli();
