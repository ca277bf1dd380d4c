/**
 * kinesalite in-process on 127.0.0.1, in memory, answering at once (no creation or reshaping delay).
 */
import kinesalite from "kinesalite"
import type { AddressInfo } from "node:net"

/** A running kinesalite. */
export interface Kinesalite {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string
  /** Stops it, closing the connections it keeps alive. */
  readonly close: () => Promise<void>
}

/** Starts kinesalite on `port` of 127.0.0.1 (0: a free one). */
export const start = (port: number): Promise<Kinesalite> =>
  new Promise((resolve, reject) => {
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10_000 })
    // The proxy keeps its connections to kinesalite alive; a server that closed an idle one (Node's default, after
    // 5 s) could close it just as the proxy reused it, and the request would fail with a reset.
    server.keepAliveTimeout = 10 * 60 * 1000
    server.headersTimeout = server.keepAliveTimeout + 1000
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      let closed: Promise<void> | undefined
      resolve({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          closed ??= new Promise((done) => {
            // Keep-alive connections would hold close() open until they time out.
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
