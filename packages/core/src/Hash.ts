/**
 * MD5, as Kinesis uses it: a partition key's hash key is the MD5 of its UTF-8 bytes, read as a 128-bit big-endian
 * number; an aggregated record ends with the MD5 of its message. One helper over `node:crypto` for every caller.
 */
import * as crypto from "node:crypto"

/** The 16-byte MD5 digest of `input` (a string is hashed as its UTF-8 bytes). */
export const md5 = (input: string | Uint8Array): Uint8Array => crypto.hash("md5", input, "buffer")

/** The hash key of a partition key: the MD5 of its UTF-8 bytes as 32 lowercase hexadecimal digits. */
export const hashKeyHex = (partitionKey: string): string => crypto.hash("md5", partitionKey, "hex")
