// Preload for the Web Crypto benchmark: hide node:crypto from the core's run-time probe, as on
// Cloudflare Workers or in a browser.
process.getBuiltinModule = undefined
