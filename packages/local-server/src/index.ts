/**
 * @effect-kinesis/local-server: an embedded Kinesis for tests, demos and development, in plain Node (no `effect`):
 * kinesalite behind a proxy with AWS's limits and faults, and a stream reader.
 */
export * as LocalServer from "./LocalServer.js"
export * as ProxyServer from "./ProxyServer.js"
export * as StreamReader from "./StreamReader.js"
export type { StoredRecord } from "./StreamReader.js"
