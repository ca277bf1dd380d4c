/**
 * Updates one writer's metrics: once per request with counts, never per record taken. The metrics are resolved
 * once, with the stream's label in their key, so an update finds its value without building a key.
 */
import type * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import * as Metrics from "../Metrics.js"

/** One writer's metrics, and what it last reported of the figures it reports as differences. */
export interface Recorder {
  /** The context of the fiber that built the writer (its metric attributes among them): every update uses it. */
  readonly context: Context.Context<never>
  readonly metrics: Metrics.StreamMetrics
  // Metrics with one more attribute (an error code, a shard), made on first use.
  readonly tagged: Map<string, Metric.Metric<number, unknown>>
  taken: number
  records: number
  bytes: number
  inFlight: number
}

/** The recorder of the writer of a stream. */
export const make = (streamName: string, context: Context.Context<never>): Recorder => ({
  context,
  metrics: Metrics.forStream(streamName),
  tagged: new Map(),
  taken: 0,
  records: 0,
  bytes: 0,
  inFlight: 0
})

const taggedWith = (
  recorder: Recorder,
  name: keyof Metrics.StreamMetrics,
  key: string,
  value: string
): Metric.Metric<number, unknown> => {
  const id = `${name}\n${key}\n${value}`
  let metric = recorder.tagged.get(id)
  if (metric === undefined) {
    metric = Metric.withAttributes(recorder.metrics[name] as Metric.Metric<number, unknown>, { [key]: value })
    recorder.tagged.set(id, metric)
  }
  return metric
}

/** Reports what the writer took and holds now, as the difference from what it last reported. */
export const holding = (recorder: Recorder, taken: number, records: number, bytes: number, inFlight: number): void => {
  const { context, metrics } = recorder
  if (taken !== recorder.taken) {
    metrics.recordsTaken.updateUnsafe(taken - recorder.taken, context)
    recorder.taken = taken
  }
  if (records !== recorder.records) {
    metrics.recordsHeld.updateUnsafe(records - recorder.records, context)
    recorder.records = records
  }
  if (bytes !== recorder.bytes) {
    metrics.bytesHeld.updateUnsafe(bytes - recorder.bytes, context)
    recorder.bytes = bytes
  }
  if (inFlight !== recorder.inFlight) {
    metrics.requestsInFlight.updateUnsafe(inFlight - recorder.inFlight, context)
    recorder.inFlight = inFlight
  }
}

/** A request carrying `records` user records in `bytes` bytes ended after `millis`; `errorType` if it failed whole. */
export const request = (
  recorder: Recorder,
  records: number,
  bytes: number,
  millis: number,
  errorType: string | undefined
): void => {
  const { context, metrics } = recorder
  if (errorType === undefined) {
    metrics.sentMessages.updateUnsafe(records, context)
    metrics.operationDuration.updateUnsafe(millis / 1000, context)
  } else {
    taggedWith(recorder, "sentMessages", Metrics.Attributes.errorType, errorType).updateUnsafe(records, context)
    taggedWith(recorder, "operationDuration", Metrics.Attributes.errorType, errorType).updateUnsafe(
      millis / 1000,
      context
    )
  }
  metrics.bytesSent.updateUnsafe(bytes, context)
  metrics.requestRecords.updateUnsafe(records, context)
}

/** Records of `bytes` bytes in all were stored. */
export const delivered = (recorder: Recorder, records: number, bytes: number): void => {
  if (records === 0) return
  recorder.metrics.recordsDelivered.updateUnsafe(records, recorder.context)
  recorder.metrics.bytesDelivered.updateUnsafe(bytes, recorder.context)
}

/** Records were put back to be sent again after `code`. */
export const retried = (recorder: Recorder, code: string, records: number): void => {
  taggedWith(recorder, "recordsRetried", Metrics.Attributes.errorType, code).updateUnsafe(records, recorder.context)
}

/** Records failed for good with `code`. */
export const failed = (recorder: Recorder, code: string, records: number): void => {
  taggedWith(recorder, "recordsFailed", Metrics.Attributes.errorType, code).updateUnsafe(records, recorder.context)
}

/** A shard (undefined: unknown, shard-blind) refused records for its throughput. */
export const throttled = (recorder: Recorder, shard: string | undefined, records: number): void => {
  const metric = shard === undefined ?
    recorder.metrics.recordsThrottled :
    taggedWith(recorder, "recordsThrottled", Metrics.Attributes.partition, shard)
  metric.updateUnsafe(records, recorder.context)
}
