#!/usr/bin/env node
// The server is built into dist/ (npm run build); this file exists before the build, so that npm links it.
import "../dist/serve.js"
