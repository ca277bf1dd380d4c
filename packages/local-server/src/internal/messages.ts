/**
 * The messages AWS gives with its errors, in its words, for the account and region the proxy stands for.
 */

/** What AWS says with `InternalFailure`. */
export const internalFailureMessage = "Internal service failure."

/** The account and region named in messages and ARNs. */
export interface Place {
  readonly account: string
  readonly region: string
}

/** What AWS says of a record refused because its shard is over its limits. */
export const throttledMessage = (place: Place, stream: string, shardId: string): string =>
  `Rate exceeded for shard ${shardId} in stream ${stream} under account ${place.account}.`

/** What AWS says with an error of `type` to a request of `operation` on `stream`. */
export const errorMessage = (place: Place, type: string, stream: string | undefined, operation: string): string => {
  const { account, region } = place
  const name = stream ?? "unknown"
  const arn = `arn:aws:kinesis:${region}:${account}:stream/${name}`
  switch (type) {
    case "InternalFailure":
      return internalFailureMessage
    case "ResourceNotFoundException":
      return `Stream ${name} under account ${account} not found.`
    case "AccessDeniedException":
      return `User: arn:aws:iam::${account}:user/local is not authorized to perform: kinesis:${operation} ` +
        `on resource: ${arn} because no identity-based policy allows the kinesis:${operation} action`
    case "KMSThrottlingException":
      return "Rate exceeded for the AWS KMS key of this stream."
    case "KMSAccessDeniedException":
      return `The ciphertext references a key that doesn't exist or that you don't have access to (stream ${name}).`
    case "KMSDisabledException":
      return "The request was rejected because the specified customer master key (CMK) is not enabled."
    case "KMSNotFoundException":
      return "The request was rejected because the specified entity or resource can't be found."
    case "ProvisionedThroughputExceededException":
      return `Rate exceeded for stream ${name} under account ${account}.`
    default:
      return `${type} (injected by the fault plan)`
  }
}
