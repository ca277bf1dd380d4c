/**
 * Reading KPL aggregated records: what a consumer of a stream the writer aggregates into needs. The format itself
 * (encoding, size prediction) is `@effect-kinesis/core`'s `Aggregation`.
 */
import { Aggregation } from "@effect-kinesis/core"
import * as Either from "effect/Either"

/** A user record: what goes into an aggregate, and what comes out of one. */
export type UserRecord = Aggregation.UserRecord

/** Whether `data` is an aggregated record: the magic number, the frame, and a digest that matches. */
export const isAggregated = Aggregation.isAggregated

/**
 * The user records of a Kinesis record: those of an aggregated record in their order, or the record itself when
 * it is not aggregated, as the KCL does. Fails with the reason when the record is framed as an aggregate but its
 * message is broken.
 */
export const decode = (record: UserRecord): Either.Either<ReadonlyArray<UserRecord>, string> => {
  const decoded = Aggregation.decode(record)
  return Aggregation.isMalformed(decoded) ? Either.left(decoded.reason) : Either.right(decoded)
}
