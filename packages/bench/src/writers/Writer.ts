/**
 * What each compared writer provides to the harness: set up (client, library), then run the offer to the end.
 */
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"

/** A writer set up for one run. */
export interface Prepared {
  /** Offers every record as this writer's user would, and returns when the writer says all are settled. */
  readonly run: (offer: Offer) => Promise<{ readonly reportedFailed: number }>
  readonly close: () => Promise<void>
}

/** Sets a writer up for a job: builds its client with the shared settings and loads its library. */
export type Writer = (job: Job) => Promise<Prepared>
